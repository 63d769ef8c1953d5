// Builds onecart databases: the platform bootstrap (as the local superuser), then
// migrations through the real Supabase CLI and the seed as `postgres`, the
// project role that is not a superuser, as `supabase db push` runs on a project.
// Tests clone a template built once per run.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import postgres from "postgres";
import { projectUrl } from "./postgres.ts";

const run = promisify(execFile);
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const supabaseBin = join(repoRoot, "node_modules", ".bin", "supabase");

export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function connect(url: string, options: postgres.Options<{}> = {}) {
  return postgres(url, { onnotice: () => {}, prepare: false, ...options });
}

/** sql/platform/bootstrap.sql first, then every other sql/platform file in name order. */
export async function platformFiles(): Promise<string[]> {
  const dir = join(repoRoot, "sql", "platform");
  const others = (await readdir(dir)).filter((n) => n.endsWith(".sql") && n !== "bootstrap.sql").sort();
  return ["bootstrap.sql", ...others].map((n) => join(dir, n));
}

/**
 * Lays down what a Supabase project has before its first migration (idempotent:
 * a second run changes nothing). `adminUrl` connects as a superuser other than
 * `postgres`.
 */
export async function bootstrap(adminUrl: string): Promise<void> {
  const sql = connect(adminUrl, { max: 1 });
  try {
    for (const file of await platformFiles()) await sql.unsafe(await readFile(file, "utf8"));
  } finally {
    await sql.end();
  }
}

/** Today's and the next days' realtime.messages partitions, as Realtime's janitor keeps them. */
export async function maintainRealtimePartitions(adminUrl: string): Promise<void> {
  const sql = connect(adminUrl, { max: 1 });
  try {
    await sql.unsafe(await readFile(join(repoRoot, "sql/platform/realtime_partitions.sql"), "utf8"));
  } finally {
    await sql.end();
  }
}

/** `supabase db push` from the real CLI; `workdir` holds a supabase/ folder. */
export async function pushMigrations(
  url: string,
  opts: { includeSeed?: boolean; workdir?: string } = {},
): Promise<string> {
  const args = ["db", "push", `--remote=${url}`, "--include-all", "--yes", "--workdir", opts.workdir ?? repoRoot];
  if (opts.includeSeed) args.push("--include-seed");
  try {
    const { stdout, stderr } = await run(supabaseBin, args, { cwd: opts.workdir ?? repoRoot, env: cliEnv() });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`supabase db push failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

export function cliEnv(): NodeJS.ProcessEnv {
  // No telemetry or update checks from a developer's or CI's runs. Our servers
  // are on loopback without TLS; the CLI would warn about that on stdout, which
  // is also where `gen types` writes the types.
  return {
    ...process.env,
    DO_NOT_TRACK: "1",
    SUPABASE_TELEMETRY_DISABLED: "1",
    NO_COLOR: "1",
    PGSSLMODE: process.env.PGSSLMODE ?? "disable",
  };
}

export async function supabaseCli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return await run(supabaseBin, args, { cwd: repoRoot, env: cliEnv(), maxBuffer: 64 * 1024 * 1024 });
}

/** A complete onecart database: bootstrap as the superuser, then migrations and seed as `postgres`. */
export async function buildDatabase(adminUrl: string): Promise<void> {
  await bootstrap(adminUrl);
  await pushMigrations(projectUrl(adminUrl), { includeSeed: true });
  await applyLocalSeed(projectUrl(adminUrl));
}

/**
 * What only a local database gets after the seed: the fixture's staff can sign
 * in with a password. Never part of supabase/seed.sql, which may reach a project.
 */
export async function applyLocalSeed(url: string): Promise<void> {
  const sql = connect(url, { max: 1 });
  try {
    await sql.unsafe(await readFile(join(repoRoot, "sql/local/seed.sql"), "utf8"));
  } finally {
    await sql.end();
  }
}

/**
 * Creates a database (as a copy of `template` if given) owned by `postgres`, as
 * a project's database is, once that role exists. Returns its admin URL.
 */
export async function createDatabase(adminUrl: string, name: string, template?: string): Promise<string> {
  const sql = connect(adminUrl, { max: 1 });
  try {
    const [{ project }] = await sql`select exists (select from pg_roles where rolname = 'postgres') as project`;
    await sql.unsafe(
      `create database "${name}"${template ? ` template "${template}"` : ""}` +
        (project ? " owner postgres" : ""),
    );
  } finally {
    await sql.end();
  }
  return databaseUrl(adminUrl, name);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const sql = connect(adminUrl, { max: 1 });
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await sql.end();
  }
}

/** The files of sql/ that make the current definition, in the order they apply. */
export async function currentDefinitionFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const dir of ["schema", "internal", "rpc", "ops", "realtime", "schedule"]) {
    const names = (await readdir(join(repoRoot, "sql", dir))).filter((n) => n.endsWith(".sql")).sort();
    files.push(...names.map((n) => join(repoRoot, "sql", dir, n)));
  }
  return files;
}

/**
 * onecart's functions are callable only where a grant says so, yet Postgres
 * grants EXECUTE to PUBLIC on every new function. Default privileges cannot be
 * narrowed per schema below a global default, and a global revoke would change
 * every other feature of a shared project, so each onecart migration (and each
 * sql/ file) revokes the default only while it runs and restores it at its end.
 */
export function withOnecartFunctionDefaults(body: string): string {
  return "-- onecart's functions are callable only where granted; Postgres's default for others is kept.\n" +
    "alter default privileges revoke execute on functions from public;\n\n" +
    body.trimEnd() +
    "\n\nalter default privileges grant execute on functions to public;\n";
}

/** Builds the schema from sql/ instead of supabase/migrations (after bootstrap), as `postgres`. */
export async function applyCurrentDefinition(url: string): Promise<void> {
  const sql = connect(url, { max: 1 });
  try {
    for (const file of await currentDefinitionFiles()) {
      await sql.begin(async (tx) => {
        await tx.unsafe(withOnecartFunctionDefaults(await readFile(file, "utf8")));
      });
    }
  } finally {
    await sql.end();
  }
}
