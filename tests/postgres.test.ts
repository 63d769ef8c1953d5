// The throwaway Postgres never outlives the process that started it, even when
// that process is killed outright.
import { spawn } from "node:child_process";
import { expect, it } from "vitest";
import postgres from "postgres";
import { repoRoot } from "../scripts/lib/database.ts";

it("stops when its parent is SIGKILLed", async () => {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const parent = spawn(process.execPath, ["--import", "tsx", "tests/fixtures/hold-postgres.ts"],
    { cwd: repoRoot, env, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    parent.stdout.on("data", (chunk) => {
      const match = /postgres:\/\/\S+/.exec(String(chunk));
      if (match) resolve(match[0]);
    });
    parent.once("exit", () => reject(new Error("the parent exited before Postgres was up")));
  });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const [{ pid }] = await sql`select pg_backend_pid() as pid`;
  expect(pid).toBeGreaterThan(0);
  await sql.end();

  parent.kill("SIGKILL");
  const deadline = Date.now() + 10_000;
  let reachable = true;
  while (reachable && Date.now() < deadline) {
    const probe = postgres(url, { max: 1, connect_timeout: 1, onnotice: () => {} });
    reachable = await probe`select 1`.then(() => true, () => false);
    await probe.end({ timeout: 0 });
    if (reachable) await new Promise((r) => setTimeout(r, 100));
  }
  expect(reachable).toBe(false);
});
