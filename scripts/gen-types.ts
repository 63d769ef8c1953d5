// Regenerates functions/_shared/database.types.ts from a database built from
// supabase/migrations, with the real CLI. tests/db/schema.test.ts fails when the
// committed file differs from what this prints. @onecart/client gets the same
// text as its own file (a package cannot import from outside itself once
// installed); tests/client/package.test.ts fails when the two differ.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { projectUrl, startPostgres } from "./lib/postgres.ts";
import { buildDatabase, createDatabase, dropDatabase, repoRoot, supabaseCli } from "./lib/database.ts";

export const typesFile = join(repoRoot, "functions/_shared/database.types.ts");
export const clientTypesFile = join(repoRoot, "client/src/database.types.ts");

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
    const types = await generateTypes(projectUrl(url));
    for (const file of [typesFile, clientTypesFile]) {
      await writeFile(file, types);
      console.log(`wrote ${file}`);
    }
  } finally {
    if (pg.external) await dropDatabase(pg.adminUrl, name);
    await pg.stop();
  }
}
