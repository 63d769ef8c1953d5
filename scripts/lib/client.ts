// Builds @onecart/client (client/dist, its package's own `npm run build`) when
// the build is missing or older than its sources. Everything in this repository
// that imports the package by name (the app, the demo of `npm start`, the
// type-checks) gets the build, as a POS app does; `npm ci` builds it once (the
// package's `prepare`), this keeps it current after the sources change.
import { execFile } from "node:child_process";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./database.ts";
import { newest } from "./newest.ts";

const run = promisify(execFile);
export const clientDir = join(repoRoot, "client");
export const clientDist = join(clientDir, "dist");

/** True when it built; false when the build was already current. */
export async function ensureClientBuilt(log: (line: string) => void = () => {}): Promise<boolean> {
  const built = await newest(join(clientDist, "index.js"));
  const sources = Math.max(
    await newest(join(clientDir, "src")),
    await newest(join(clientDir, "package.json")),
    await newest(join(clientDir, "tsconfig.json")),
    await newest(join(clientDir, "tsconfig.build.json")),
  );
  if (built && built >= sources) return false;
  log("Building the client library (client/)…");
  // With this Node first on PATH, so the build's scripts run on it too.
  const PATH = [dirname(process.execPath), process.env.PATH].join(delimiter);
  await run("npm", ["run", "--silent", "build"], {
    cwd: clientDir,
    env: { ...process.env, PATH },
    maxBuffer: 16 * 1024 * 1024,
  });
  return true;
}
