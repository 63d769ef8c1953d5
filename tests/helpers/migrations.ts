// An upgrade as a project gets it: a CLI project folder holding some of the
// migrations, pushed with `supabase db push`, then the rest.
import { cp, mkdir, mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../scripts/lib/database.ts";

/** A temp CLI project with onecart's config and the migrations `filter` keeps; the caller removes it. */
export async function cliProject(filter: (file: string) => boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "onecart-migrations-"));
  await mkdir(join(dir, "supabase", "migrations"), { recursive: true });
  await cp(join(repoRoot, "supabase", "config.toml"), join(dir, "supabase", "config.toml"));
  for (const file of (await readdir(join(repoRoot, "supabase", "migrations"))).filter(filter)) {
    await cp(join(repoRoot, "supabase", "migrations", file), join(dir, "supabase", "migrations", file));
  }
  return dir;
}
