// The functions and the local server pass Deno's own type check and linter.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { repoRoot } from "../scripts/lib/database.ts";
import { denoBin } from "../scripts/lib/stack.ts";

const run = promisify(execFile);

it("deno check passes on functions/ and the local server", async () => {
  const { stderr } = await run(denoBin, [
    "check",
    "functions/carts/index.ts",
    "functions/queue/index.ts",
    "scripts/serve.ts",
  ], { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } });
  expect(stderr).not.toMatch(/error/i);
}, 180_000);

it("deno lint passes", async () => {
  const { stdout, stderr } = await run(denoBin, ["lint"], { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1" } });
  expect(stdout + stderr).toMatch(/Checked \d+ files/);
});
