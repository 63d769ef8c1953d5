// Regenerates functions/_shared/database.types.ts from a database built from
// supabase/migrations, with the real CLI. tests/db/schema.test.ts fails when the
// committed file differs from what this prints.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { projectUrl, startPostgres } from "./lib/postgres.ts";
import { buildDatabase, createDatabase, dropDatabase, repoRoot, supabaseCli } from "./lib/database.ts";

export const typesFile = join(repoRoot, "functions/_shared/database.types.ts");

export async function generateTypes(url: string): Promise<string> {
  const { stdout } = await supabaseCli(["gen", "types", "typescript", "--db-url", url, "--schema", "public"]);
  return stdout;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pg = await startPostgres();
  const name = `onecart_types_${process.pid}`;
  try {
    const url = await createDatabase(pg.adminUrl, name);
    await buildDatabase(url);
    await writeFile(typesFile, await generateTypes(projectUrl(url)));
    console.log(`wrote ${typesFile}`);
  } finally {
    if (pg.external) await dropDatabase(pg.adminUrl, name);
    await pg.stop();
  }
}
