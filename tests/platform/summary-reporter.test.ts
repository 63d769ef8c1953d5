// The closing "onecart: …" line counts what vitest fails the run for, so a
// script that reads it never takes a broken setup for skipped tests. Run on a
// throwaway project of a few files, with the repository's reporter.
import { execFile } from "node:child_process";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/database.ts";

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), "onecart-summary-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const files: Record<string, string> = {
  "package.json": JSON.stringify({ type: "module" }),
  "vitest.config.ts": `import { defineConfig } from "vitest/config";
export default defineConfig({ test: { include: ["*.test.ts"], reporters: [${
    JSON.stringify(join(repoRoot, "tests/helpers/summary-reporter.ts"))
  }] } });`,
  // Two tests that never run because their suite's setup threw, and one that passes.
  "setup.test.ts": `import { beforeAll, describe, it } from "vitest";
describe("a suite whose setup throws", () => {
  beforeAll(() => { throw new Error("setup broke"); });
  it("never runs", () => {});
  it("never runs either", () => {});
});
it("passes", () => {});`,
  // A test that passes in a file whose teardown throws: the run fails, once.
  "teardown.test.ts": `import { afterAll, it } from "vitest";
afterAll(() => { throw new Error("teardown broke"); });
it("passes before the teardown", () => {});`,
  // Skipped on purpose, beside a passing test.
  "skip.test.ts": `import { it } from "vitest";
it.skip("is skipped on purpose", () => {});
it("passes too", () => {});`,
};

async function summaryOf(names: string[]): Promise<{ line: string; exitCode: number }> {
  const result = await run(join(repoRoot, "node_modules/.bin/vitest"), ["run", ...names], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", VITEST: undefined, VITEST_WORKER_ID: undefined },
  }).then(({ stdout }) => ({ stdout, code: 0 }), (error: { stdout: string; code: number }) => ({
    stdout: error.stdout,
    code: error.code,
  }));
  return { line: /^onecart: .*$/m.exec(result.stdout)?.[0] ?? result.stdout, exitCode: result.code };
}

it("counts tests a failed beforeAll kept from running as failed, and a failed afterAll once", async () => {
  await symlink(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);

  expect(await summaryOf(["setup.test.ts"])).toEqual({
    line: "onecart: 1 passed, 2 failed, 0 skipped",
    exitCode: 1,
  });
  expect(await summaryOf(["teardown.test.ts"])).toEqual({
    line: "onecart: 1 passed, 1 failed, 0 skipped",
    exitCode: 1,
  });
  expect(await summaryOf(["skip.test.ts"])).toEqual({ line: "onecart: 1 passed, 0 failed, 1 skipped", exitCode: 0 });
}, 120_000);
