// npm run bench: boots its own stack and runs every benchmark against one
// Postgres in one run, then writes bench/results/latest.{md,svg,json} and the
// README's results section. BENCH_ROUNDS and BENCH_SECONDS shorten or lengthen it.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "../scripts/lib/database.ts";
import { denoBin, startStack } from "../scripts/lib/stack.ts";
import { BenchContext } from "./context.ts";
import { fanOut } from "./fan-out.ts";
import { growth } from "./growth.ts";
import { functionPath, hotCart } from "./hot-cart.ts";
import { markdownTables, readNotes, type Results, writeResults } from "./report.ts";
import { raceLab } from "./race-lab.ts";
import { ms, perSec } from "./lib.ts";

const settings = { rounds: Number(process.env.BENCH_ROUNDS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 3) };
const log = (line: string) => console.log(`[bench] ${line}`);

// Postgres's own defaults for durability, which Supabase runs too (the tests turn
// them off for speed): a commit is done when its WAL is on disk.
const DURABLE = { fsync: "on", synchronous_commit: "on", full_page_writes: "on" };
const stack = await startStack({ port: Number(process.env.PORT ?? 0) || undefined, postgresSettings: DURABLE });
const ctx = new BenchContext(stack);
try {
  const [pgVersion] = await ctx.pool(1)`select current_setting('server_version') as v`;
  const pkg = async (name: string) =>
    JSON.parse(await readFile(join(repoRoot, "node_modules", name, "package.json"), "utf8")).version as string;
  const versions = {
    Postgres: pgVersion.v,
    Node: process.versions.node,
    Deno: execFileSync(denoBin, ["--version"], { encoding: "utf8" }).split("\n")[0].replace("deno ", "").split(" ")[0],
    "supabase-js": await pkg("@supabase/supabase-js"),
    "postgres.js": await pkg("postgres"),
  };

  log("1/5 hot cart");
  const hot = [
    ...await hotCart(ctx, { ...settings, synchronousCommit: "on" }),
    ...await hotCart(ctx, { ...settings, synchronousCommit: "off" }),
  ];
  for (const h of hot) {
    log(`  ${h.clients} clients, synchronous_commit ${h.synchronousCommit}: add_item ${perSec(h.rpc.throughput)}/s` +
      ` vs raw ${perSec(h.raw.throughput)}/s (${Math.round(h.ratio * 100)}%)`);
  }
  log("2/5 race lab");
  const lab = await raceLab(ctx, { rounds: settings.rounds, opsPerRound: 500 });
  for (const s of lab) log(`  ${s.name}: lost ${s.lostUpdates}, duplicates ${s.duplicateCarts}, ${perSec(s.add.throughput)}/s`);
  log("3/5 function path");
  const fn = await functionPath(ctx, settings);
  log(`  HTTP ${perSec(fn.http.throughput)}/s vs direct ${perSec(fn.direct.throughput)}/s (${Math.round(fn.ratio * 100)}%)`);
  log("4/5 fan-out");
  const fan = await fanOut(ctx, { rounds: settings.rounds, mutations: 100 });
  log(`  p50 ${ms(fan.p50)} ms, p99 ${ms(fan.p99)} ms, missing ${fan.missing}`);
  log("5/5 growth");
  const grown = await growth(ctx, stack.adminDbUrl, { rounds: settings.rounds });
  for (const g of grown) log(`  ${g.call}: ${ms(g.empty.p50)} → ${ms(g.grown.p50)} ms (${g.ratio.toFixed(2)}×)`);

  const results: Results = {
    date: new Date().toISOString().slice(0, 10), versions, settings, hotCart: hot, raceLab: lab, functionPath: fn,
    fanOut: fan, growth: grown, notes: await readNotes(repoRoot),
  };
  await writeResults(results, repoRoot);
  console.log("\n" + markdownTables(results));
  log(`wrote bench/results/latest.md, latest.svg, latest.json and the README's table`);
} finally {
  await ctx.close();
  await stack.stop();
}
