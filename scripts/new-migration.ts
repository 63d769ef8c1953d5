// npm run migration:new -- <verb_object> <sql/ files…>
// Writes supabase/migrations/<UTC timestamp>_<verb_object>.sql from the current
// definitions in sql/: change a function in sql/, then ship it as a migration
// that redefines it whole. Landed migrations are never edited.
import { readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { repoRoot, withOnecartFunctionDefaults } from "./lib/database.ts";

const [name, ...files] = process.argv.slice(2);
if (!name || !/^[a-z]+(_[a-z0-9]+)+$/.test(name) || files.length === 0) {
  console.error("usage: npm run migration:new -- <verb_object> <sql/ files…>");
  console.error("  e.g. npm run migration:new -- update_add_item sql/rpc/add_item.sql");
  process.exit(2);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const parts = [`-- ${name.replaceAll("_", " ")}: from ${files.map((f) => relative(repoRoot, resolve(f))).join(", ")}`];
for (const file of files) {
  // `create function` becomes `create or replace function`: a later migration redefines the whole function.
  parts.push((await readFile(resolve(file), "utf8")).replace(/^create function /gm, "create or replace function "));
}
const target = join(repoRoot, "supabase", "migrations", `${stamp}_${name}.sql`);
await writeFile(target, withOnecartFunctionDefaults(parts.join("\n")));
console.log(`wrote ${relative(repoRoot, target)}; sql/ stays the readable current definition`);
