// Builds the reference POS app (app/) when its build is missing or older than
// its sources or the client library's, so `npm start` and the browser tests
// always serve what the sources say without rebuilding every time.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./database.ts";

const run = promisify(execFile);
export const appDir = join(repoRoot, "app");
export const appDist = join(appDir, "dist");

async function newest(path: string): Promise<number> {
  if (!existsSync(path)) return 0;
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = 0;
  for (const entry of await readdir(path)) {
    if (entry === "node_modules" || entry === "dist") continue;
    latest = Math.max(latest, await newest(join(path, entry)));
  }
  return latest;
}

/** True when it built; false when the build was already current. */
export async function ensureAppBuilt(log: (line: string) => void = () => {}): Promise<boolean> {
  const built = await newest(join(appDist, "index.html"));
  const sources = Math.max(
    await newest(join(appDir, "src")),
    await newest(join(appDir, "index.html")),
    await newest(join(appDir, "public")),
    await newest(join(appDir, "vite.config.ts")),
    await newest(join(repoRoot, "client", "src")),
  );
  if (built && built >= sources) return false;
  log("Building the POS app (app/)…");
  await run(join(repoRoot, "node_modules", ".bin", "vite"), [
    "build",
    "--config",
    join(appDir, "vite.config.ts"),
    "--logLevel",
    "warn",
  ], {
    cwd: appDir,
    // Under the test runner NODE_ENV is "test": the till is built as it ships, whoever builds it.
    env: { ...process.env, NODE_ENV: "production" },
    maxBuffer: 16 * 1024 * 1024,
  });
  return true;
}
