// The throwaway Postgres never outlives the process that started it, even when
// that process is killed outright, and leaves nothing in the temp folder however
// its owner ends; what an owner killed outright leaves, the next start sweeps.
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { repoRoot } from "../../scripts/lib/database.ts";
import { startPostgres } from "../../scripts/lib/postgres.ts";

it("stops when its parent is SIGKILLed", async () => {
  const env = { ...process.env };
  delete env.ONECART_DATABASE_URL;
  env.DATABASE_URL = "postgres://nobody:wrong@127.0.0.1:1/not_this_one"; // ignored: only ONECART_DATABASE_URL counts
  const parent = spawn(process.execPath, ["--import", "tsx", "tests/platform/hold-postgres.ts"], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    parent.stdout.on("data", (chunk) => {
      const match = /postgres:\/\/\S+/.exec(String(chunk));
      if (match) resolve(match[0]);
    });
    parent.once("exit", () => reject(new Error("the parent exited before Postgres was up")));
  });
  try {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const [{ pid }] = await sql`select pg_backend_pid() as pid`;
    expect(pid).toBeGreaterThan(0);
    await sql.end();
  } finally {
    parent.kill("SIGKILL"); // also when the check above fails: never leave the fixture running
  }
  // Gone means the port refuses connections.
  const { port } = new URL(url);
  const listening = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
  const deadline = Date.now() + 10_000;
  while ((await listening()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(await listening()).toBe(false);
});

function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

describe("the temp folder", () => {
  const temps: string[] = [];
  afterAll(() => Promise.all(temps.map((t) => rm(t, { recursive: true, force: true }))));

  /** The fixture with its own temp folder, so what it leaves there is all that is there. */
  async function hold(temp: string, args: string[] = []) {
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temp };
    delete env.ONECART_DATABASE_URL;
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", "tests/platform/hold-postgres.ts", ...args],
      { cwd: repoRoot, env, stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (chunk) => {
        const match = /postgres:\/\/\S+/.exec(String(chunk));
        if (match) resolve(match[0]);
      });
      child.once("exit", () => reject(new Error("the fixture exited before Postgres was up")));
    });
    return { child, exited, port: Number(new URL(url).port) };
  }

  /** What the server left; other tools (tsx's cache) keep their own folders there. */
  async function left(temp: string) {
    return (await readdir(temp)).filter((n) => n.startsWith("onecart-pg-"));
  }

  async function freshTemp() {
    const temp = await mkdtemp(join(tmpdir(), "onecart-temp-test-"));
    temps.push(temp);
    await chmod(temp, 0o755); // run as root, Postgres runs as its own OS user and must get in
    return temp;
  }

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`is left empty when the owner gets ${signal}`, async () => {
      const temp = await freshTemp();
      const { child, exited } = await hold(temp);
      expect(await left(temp)).toHaveLength(1);
      child.kill(signal);
      await exited;
      expect(await left(temp)).toEqual([]);
    }, 180_000);
  }

  it("is left empty when the owner exits without stopping the server", async () => {
    const temp = await freshTemp();
    const { exited } = await hold(temp, ["exit"]);
    await exited;
    expect(await left(temp)).toEqual([]);
  }, 180_000);

  it("keeps what a SIGKILLed owner left only until the next start sweeps it", async () => {
    const temp = await freshTemp();
    const { child, exited, port } = await hold(temp);
    child.kill("SIGKILL");
    await exited;
    const deadline = Date.now() + 10_000;
    while ((await listening(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await left(temp)).toHaveLength(1);

    const next = await hold(temp, ["exit"]);
    await next.exited;
    expect(await left(temp)).toEqual([]);
  }, 180_000);
});

describe("which server", () => {
  it("ignores a generic DATABASE_URL and starts its own", async () => {
    const saved = { ...process.env };
    process.env.DATABASE_URL = "postgres://nobody:wrong@127.0.0.1:1/not_this_one";
    delete process.env.ONECART_DATABASE_URL;
    try {
      const pg = await startPostgres();
      try {
        expect(pg.external).toBe(false);
        expect(new URL(pg.adminUrl).port).not.toBe("1");
        const sql = postgres(pg.adminUrl, { max: 1, onnotice: () => {} });
        const [{ user }] = await sql`select current_user as user`;
        await sql.end();
        expect(user).toBe("supabase_admin");
      } finally {
        await pg.stop();
      }
    } finally {
      process.env = saved;
    }
  });

  it("uses the server ONECART_DATABASE_URL names, as its superuser, and hands out postgres for the project", async () => {
    const saved = { ...process.env };
    const admin = "postgres://supabase_admin:postgres@127.0.0.1:5/postgres";
    process.env.ONECART_DATABASE_URL = admin;
    try {
      const pg = await startPostgres();
      expect(pg).toMatchObject({ external: true, adminUrl: admin });
      expect(new URL(pg.url).username).toBe("postgres");
      expect(new URL(pg.url).port).toBe("5");
      await pg.stop();
    } finally {
      process.env = saved;
    }
  });
});
