// Builds the reference POS app (app/) when its build is missing or older than
// its sources or the client library's build, so `npm start` and the browser
// tests always serve what the sources say without rebuilding every time. The
// app imports @onecart/client by name, from the package's built `exports`, as
// a POS team's app does: the library is built first.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { clientDist, ensureClientBuilt } from "./client.ts";
import { repoRoot } from "./database.ts";
import { newest } from "./newest.ts";

const run = promisify(execFile);
export const appDir = join(repoRoot, "app");
export const appDist = join(appDir, "dist");

/** True when it built; false when the build was already current. */
export async function ensureAppBuilt(log: (line: string) => void = () => {}): Promise<boolean> {
  await ensureClientBuilt(log);
  const built = await newest(join(appDist, "index.html"));
  const sources = Math.max(
    await newest(join(appDir, "src")),
    await newest(join(appDir, "index.html")),
    await newest(join(appDir, "public")),
    await newest(join(appDir, "vite.config.ts")),
    await newest(clientDist),
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
