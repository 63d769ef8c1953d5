// Builds onecart databases: the platform bootstrap, then migrations through the
// real Supabase CLI, then the seed. Tests clone a template built once per run.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import postgres from "postgres";

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

/** Runs the plain-Postgres stand-ins for Supabase's platform pieces (idempotent). */
export async function bootstrap(url: string): Promise<void> {
  const sql = connect(url, { max: 1 });
  try {
    await sql.unsafe(await readFile(join(repoRoot, "sql/platform/bootstrap.sql"), "utf8"));
  } finally {
    await sql.end();
  }
}

/** `supabase db push` from the real CLI; `workdir` holds a supabase/ folder. */
export async function pushMigrations(
  url: string,
  opts: { includeSeed?: boolean; workdir?: string } = {},
): Promise<string> {
  const args = ["db", "push", "--db-url", url, "--include-all", "--yes", "--workdir", opts.workdir ?? repoRoot];
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

/** A complete onecart database: bootstrap, migrations and seed. */
export async function buildDatabase(url: string): Promise<void> {
  await bootstrap(url);
  await pushMigrations(url, { includeSeed: true });
}

export async function createDatabase(adminUrl: string, name: string, template?: string): Promise<string> {
  const sql = connect(adminUrl, { max: 1 });
  try {
    await sql.unsafe(`create database "${name}"${template ? ` template "${template}"` : ""}`);
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

/** Builds the schema from sql/ instead of supabase/migrations (after bootstrap). */
export async function applyCurrentDefinition(url: string): Promise<void> {
  const sql = connect(url, { max: 1 });
  try {
    for (const file of await currentDefinitionFiles()) {
      await sql.begin(async (tx) => {
        await tx.unsafe(await readFile(file, "utf8"));
      });
    }
  } finally {
    await sql.end();
  }
}
