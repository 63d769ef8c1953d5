// npm run migration:new -- <verb_object> <sql/ files…> [--reason "why"]
// Writes supabase/migrations/<UTC timestamp>_<verb_object>.sql from the current
// definitions in sql/: change a function in sql/, then ship it as a migration
// that redefines it whole. Landed migrations are never edited. The reason goes
// into the migration's header, since a migration outlives the commit message
// that explained it; without --reason it is asked for on a terminal.
import { readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { repoRoot, withOnecartFunctionDefaults } from "./lib/database.ts";

const usage = [
  'usage: npm run migration:new -- <verb_object> <sql/ files…> --reason "why the change"',
  '  e.g. npm run migration:new -- update_add_item sql/rpc/add_item.sql --reason "merge lines by options hash"',
].join("\n");

const { values, positionals } = parseArgs({ allowPositionals: true, options: { reason: { type: "string" } } });
const [name, ...files] = positionals;
if (!name || !/^[a-z]+(_[a-z0-9]+)+$/.test(name) || files.length === 0) {
  console.error(usage);
  process.exit(2);
}

let reason = values.reason?.trim();
if (!reason && process.stdin.isTTY) {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  reason = (await prompt.question("Why this change? (one or two sentences for the migration's header)\n> ")).trim();
  prompt.close();
}
if (!reason) {
  console.error('A migration needs its reason: pass --reason "…".\n' + usage);
  process.exit(2);
}

const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const sources = files.map((f) => relative(repoRoot, resolve(f))).join(", ");
const header = [
  `-- ${name.replaceAll("_", " ")}: from ${sources}`,
  ...wrap(`Why: ${reason.replace(/\s+/g, " ")}`, 100).map((line) => `-- ${line}`),
].join("\n");
const parts: string[] = [];
for (const file of files) {
  // `create function` becomes `create or replace function`: a later migration redefines the whole function.
  parts.push((await readFile(resolve(file), "utf8")).replace(/^create function /gm, "create or replace function "));
}
const target = join(repoRoot, "supabase", "migrations", `${stamp}_${name}.sql`);
await writeFile(target, `${header}\n${withOnecartFunctionDefaults(parts.join("\n"))}`);
console.log(`wrote ${relative(repoRoot, target)}; sql/ stays the readable current definition`);

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
