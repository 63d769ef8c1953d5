// The throwaway Postgres never outlives the process that started it, even when
// that process is killed outright.
import { spawn } from "node:child_process";
import { connect } from "node:net";
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
  // Gone means the port refuses connections.
  const { port } = new URL(url);
  const listening = () => new Promise<boolean>((resolve) => {
    const socket = connect(Number(port), "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
  const deadline = Date.now() + 10_000;
  while ((await listening()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(await listening()).toBe(false);
});
