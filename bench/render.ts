// npm run bench:render: rewrites the results files from
// results/latest.json, after an edit of bench/NOTES.md, without measuring again.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "../scripts/lib/database.ts";
import { readNotes, type Results, writeResults } from "./report.ts";

const results = JSON.parse(await readFile(join(repoRoot, "bench", "results", "latest.json"), "utf8")) as Results;
await writeResults({ ...results, notes: await readNotes(repoRoot) }, repoRoot, { record: true });
console.log("rewrote bench/results/latest.{md,svg,json}");
