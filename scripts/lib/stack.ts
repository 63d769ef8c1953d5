// The local stack: Postgres (embedded unless ONECART_DATABASE_URL), the
// bootstrap, migrations and seed, and one Deno process serving the functions and
// Realtime, which connects as `postgres`, the project role, as on a project.
// Used by `npm start`, by the tests and by the benchmarks.
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { SignJWT } from "jose";
import { freePort, type RunningPostgres, startPostgres } from "./postgres.ts";
import { buildDatabase, maintainRealtimePartitions, repoRoot } from "./database.ts";
import { spawnTied } from "./process.ts";

/** The Supabase CLI's local default, so local keys look like the ones people know. */
export const DEFAULT_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
/** The Supabase CLI's local API keys (`supabase status`), for the same reason. */
export const LOCAL_PUBLISHABLE_KEY = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";
export const LOCAL_SECRET_KEY = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";
export const denoBin = join(repoRoot, "node_modules", ".bin", "deno");

export async function signToken(
  secret: string,
  claims: Record<string, unknown>,
  ttlSeconds: number,
  now = Math.floor(Date.now() / 1000),
): Promise<string> {
  return await new SignJWT({ iss: "onecart-local", ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

/**
 * The project's API keys: JWTs for the anon and service_role roles, as Supabase
 * issues them. Issued at a fixed time, as the Supabase CLI's local keys are, so
 * one secret always gives the same keys: every start, the functions and an app's
 * config agree without passing keys around.
 */
export async function apiKeys(secret: string): Promise<{ anonKey: string; serviceRoleKey: string }> {
  const issuedAt = Date.UTC(2026, 0, 1) / 1000;
  const tenYears = 10 * 365 * 24 * 3600;
  return {
    anonKey: await signToken(secret, { role: "anon" }, tenYears, issuedAt),
    serviceRoleKey: await signToken(secret, { role: "service_role" }, tenYears, issuedAt),
  };
}

export function staffToken(secret: string, userId: string, ttlSeconds = 3600): Promise<string> {
  return signToken(secret, { sub: userId, role: "authenticated", aud: "authenticated" }, ttlSeconds);
}

export interface RunningServer {
  apiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * What the CLI hands GoTrue from supabase/config.toml's [auth.rate_limit], under
 * GoTrue's own variable names; the local Auth reads them the same way.
 */
export function authRateLimitEnv(): Record<string, string> {
  const config = parseToml(readFileSync(join(repoRoot, "supabase", "config.toml"), "utf8")) as {
    auth?: { rate_limit?: { token_refresh?: number } };
  };
  const tokenRefresh = config.auth?.rate_limit?.token_refresh;
  return tokenRefresh === undefined ? {} : { GOTRUE_RATE_LIMIT_TOKEN_REFRESH: String(tokenRefresh) };
}

/** Starts scripts/serve.ts under Deno and waits until it answers. */
export async function startServer(opts: {
  dbUrl: string;
  jwtSecret: string;
  port?: number;
  onOutput?: (text: string) => void;
  env?: Record<string, string>;
}): Promise<RunningServer> {
  const port = opts.port ?? (await freePort());
  // --unstable-no-legacy-abort: request.signal aborts only when the client goes
  // away (the functions drop such requests before they reach the database), not
  // after every response, and Deno stops warning about the old behaviour.
  const args = [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-sys",
    "--unstable-no-legacy-abort",
    "scripts/serve.ts",
  ];
  const child = spawnTied(denoBin, args, {
    deathSignal: "SIGTERM",
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(port),
      // What a hosted project gives its functions, plus the legacy JWT secret
      // under the name `supabase secrets set` accepts (see functions/_shared/auth.ts).
      SUPABASE_URL: `http://127.0.0.1:${port}`,
      SUPABASE_DB_URL: opts.dbUrl,
      SUPABASE_ANON_KEY: (await apiKeys(opts.jwtSecret)).anonKey,
      SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: LOCAL_PUBLISHABLE_KEY }),
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: LOCAL_SECRET_KEY }),
      // What the local Auth publishes: it signs with the HS256 secret, so no public keys.
      SUPABASE_JWKS: JSON.stringify({ keys: [] }),
      ONECART_JWT_SECRET: opts.jwtSecret,
      // The same secret for the local Auth, under the name GoTrue reads.
      GOTRUE_JWT_SECRET: opts.jwtSecret,
      ...authRateLimitEnv(),
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      ...opts.env,
    },
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    if (output.length < 20000) output += text;
    opts.onOutput?.(text);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const apiUrl = `http://127.0.0.1:${port}`;
  // The first run downloads the functions' npm imports into Deno's cache.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Deno server exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${apiUrl}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the Deno server did not answer within 120 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    apiUrl,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

export interface Stack {
  apiUrl: string;
  /** As `postgres`, with the privileges that role has on a project (not a superuser). */
  dbUrl: string;
  /** As the local superuser (supabase_admin): what only the Dashboard or support could do on a project. */
  adminDbUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  jwtSecret: string;
  postgres: RunningPostgres;
  /** The Deno process serving the functions and Realtime. */
  server: RunningServer;
  stop(): Promise<void>;
}

export async function startStack(
  opts: {
    port?: number;
    onOutput?: (text: string) => void;
    /** What the embedded Postgres writes to its log (stderr). */
    onPostgresLog?: (text: string) => void;
    postgresSettings?: Record<string, string>;
  } = {},
): Promise<Stack> {
  const jwtSecret = process.env.ONECART_JWT_SECRET ?? DEFAULT_JWT_SECRET;
  const pg = await startPostgres({ settings: opts.postgresSettings, log: opts.onPostgresLog });
  try {
    await buildDatabase(pg.adminUrl);
    const server = await startServer({ dbUrl: pg.url, jwtSecret, port: opts.port, onOutput: opts.onOutput });
    // Supabase Realtime's janitor keeps the next days' realtime.messages
    // partitions; a stack left running for days needs the same.
    const janitor = setInterval(() => {
      maintainRealtimePartitions(pg.adminUrl).catch((error) => opts.onOutput?.(`partition upkeep failed: ${error}\n`));
    }, 3600_000);
    janitor.unref();
    return {
      apiUrl: server.apiUrl,
      dbUrl: pg.url,
      adminDbUrl: pg.adminUrl,
      jwtSecret,
      ...(await apiKeys(jwtSecret)),
      postgres: pg,
      server,
      async stop() {
        clearInterval(janitor);
        await server.stop();
        await pg.stop();
      },
    };
  } catch (error) {
    await pg.stop();
    throw error;
  }
}
