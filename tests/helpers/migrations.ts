// A database as an older release left it, upgraded as a project gets it: built
// the production way (the platform bootstrap as the superuser, then
// `supabase db push` as `postgres`) with only the migrations before a given one,
// plus the seed; a test fills it with what the old code wrote, then pushes the
// rest.
import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, inject } from "vitest";
import {
  bootstrap,
  connect,
  createDatabase,
  dropDatabase,
  pushMigrations,
  repoRoot,
} from "../../scripts/lib/database.ts";
import { projectUrl } from "../../scripts/lib/postgres.ts";
import type { Sql } from "./db.ts";

export interface OlderDatabase {
  /** As `postgres`, the project role. */
  url: string;
  sql: Sql;
  /** Pushes every migration not applied yet, as the next deploy would. */
  upgrade(): Promise<void>;
}

/** A temp CLI project with onecart's config and the migrations `filter` keeps. */
async function cliProject(filter: (file: string) => boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "onecart-migrations-"));
  await mkdir(join(dir, "supabase", "migrations"), { recursive: true });
  await cp(join(repoRoot, "supabase", "config.toml"), join(dir, "supabase", "config.toml"));
  for (const file of (await readdir(join(repoRoot, "supabase", "migrations"))).filter(filter)) {
    await cp(join(repoRoot, "supabase", "migrations", file), join(dir, "supabase", "migrations", file));
  }
  return dir;
}

/** The database `name` at the migrations before `firstMissing`; dropped after the file. */
export async function databaseBefore(name: string, firstMissing: string): Promise<OlderDatabase> {
  const adminUrl = inject("adminUrl");
  await dropDatabase(adminUrl, name);
  const dbAdminUrl = await createDatabase(adminUrl, name);
  await bootstrap(dbAdminUrl);
  const url = projectUrl(dbAdminUrl);
  const sql = connect(url, { max: 4 });
  afterAll(async () => {
    await sql.end();
    await dropDatabase(adminUrl, name);
  });
  const workdir = await cliProject((file) => file < firstMissing);
  try {
    await pushMigrations(url, { workdir });
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
  await sql.file(join(repoRoot, "supabase", "seed.sql"));
  return { url, sql, upgrade: async () => void await pushMigrations(url) };
}
