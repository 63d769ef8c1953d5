// The functions and the local server pass Deno's own type check and linter.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/database.ts";
import { denoBin } from "../../scripts/lib/stack.ts";

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

it("gives a function instance 3 connections and one cart at most 2 of them, unless told otherwise", async () => {
  // readSettings runs under Deno (its module imports postgres.js by an npm: specifier).
  const script = `
    import { readSettings } from "./functions/_shared/db.ts";
    const cases: Record<string, string>[] = [
      {},
      { ONECART_DB_POOL_SIZE: "1" },
      { ONECART_DB_POOL_SIZE: "2" },
      { ONECART_DB_POOL_SIZE: "10", ONECART_DB_MAX_PER_TARGET: "4" },
      { ONECART_DB_POOL_SIZE: "2", ONECART_DB_MAX_PER_TARGET: "5" },
      { ONECART_DB_URL: "postgres://pooler" },
    ];
    const settings = cases.map((c) => readSettings((n) => ({ SUPABASE_DB_URL: "postgres://direct", ...c })[n]));
    let refused = 0;
    for (const size of ["0", "-1", "two", "1.5"]) {
      try {
        readSettings((n) => ({ SUPABASE_DB_URL: "postgres://direct", ONECART_DB_POOL_SIZE: size } as Record<string, string>)[n]);
      } catch {
        refused++;
      }
    }
    console.log(JSON.stringify({ settings: settings.map((s) => [s.url, s.poolSize, s.perTarget]), refused }));`;
  const { stdout } = await run(denoBin, ["eval", script], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  });
  expect(JSON.parse(stdout)).toEqual({
    settings: [
      // The defaults docs/connections.md sizes a project by.
      ["postgres://direct", 3, 2],
      // By default never the whole pool for one cart, while there is more than one connection.
      ["postgres://direct", 1, 1],
      ["postgres://direct", 2, 1],
      // Said out loud, as many as asked, up to the pool.
      ["postgres://direct", 10, 4],
      ["postgres://direct", 2, 2],
      // The pooler's URL, under a name a project's secrets may hold, wins over the direct one.
      ["postgres://pooler", 3, 2],
    ],
    refused: 4,
  });
}, 120_000);
