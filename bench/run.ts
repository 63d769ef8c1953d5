// npm run bench: boots its own stack and runs every benchmark against one
// Postgres in one run, then prints the tables. It writes them to
// bench/results/raw/ (not tracked) unless asked to record:
//   npm run bench -- --record   writes bench/results/latest.{md,svg,json}.
// BENCH_ROUNDS and BENCH_SECONDS shorten or lengthen it; BENCH_ONLY=hot,tap
// runs only the named parts (hot, race, function, fanout, growth, tap, capacity).
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "../scripts/lib/database.ts";
import { denoBin, startStack } from "../scripts/lib/stack.ts";
import { capacity } from "./capacity.ts";
import { BenchContext } from "./context.ts";
import { fanOut } from "./fan-out.ts";
import { growth } from "./growth.ts";
import { functionPath, hotCart } from "./hot-cart.ts";
import { markdownTables, readNotes, type Results, writeResults } from "./report.ts";
import { raceLab } from "./race-lab.ts";
import { tapToScreen } from "./tap.ts";
import { ms, perSec } from "./lib.ts";

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== "--record");
if (unknown.length) {
  console.error(`unknown argument ${unknown[0]}; usage: npm run bench [-- --record]`);
  process.exit(2);
}
const record = args.includes("--record");
const settings = { rounds: Number(process.env.BENCH_ROUNDS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 2) };
const only = process.env.BENCH_ONLY?.split(",");
const runs = (part: string) => !only || only.includes(part);
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
  const results: Results = {
    date: new Date().toISOString().slice(0, 10),
    versions,
    settings,
    hotCart: [],
    raceLab: [],
    functionPath: null,
    fanOut: null,
    growth: [],
    tapToScreen: null,
    capacity: null,
    notes: await readNotes(repoRoot),
  };

  if (runs("hot")) {
    log("hot cart");
    results.hotCart = [
      ...await hotCart(ctx, { ...settings, synchronousCommit: "on" }),
      ...await hotCart(ctx, {
        ...settings,
        synchronousCommit: "off",
        shapes: [{ clients: 10, carts: 1 }, { clients: 10, carts: 10 }],
      }),
    ];
    for (const h of results.hotCart) {
      log(
        `  ${h.clients} clients on ${h.carts} cart(s), synchronous_commit ${h.synchronousCommit}: ` +
          `add_item ${perSec(h.rpc.throughput)}/s vs raw ${perSec(h.raw.throughput)}/s (${
            Math.round(h.ratio * 100)
          }%); ` +
          `the contract's writes alone ${perSec(h.floor.throughput)}/s (${Math.round(h.floorRatio * 100)}%)`,
      );
    }
  }
  if (runs("race")) {
    log("race lab");
    results.raceLab = await raceLab(ctx, { rounds: settings.rounds, opsPerRound: 500 });
    for (const s of results.raceLab) {
      log(`  ${s.name}: lost ${s.lostUpdates}, duplicates ${s.duplicateCarts}, ${perSec(s.add.throughput)}/s`);
    }
  }
  if (runs("function")) {
    log("function path");
    const fn = results.functionPath = await functionPath(ctx, settings);
    log(
      `  HTTP ${perSec(fn.http.throughput)}/s vs direct ${perSec(fn.direct.throughput)}/s (${
        Math.round(fn.ratio * 100)
      }%)`,
    );
  }
  if (runs("fanout")) {
    log("fan-out");
    const fan = results.fanOut = await fanOut(ctx, { rounds: settings.rounds, mutations: 100 });
    log(`  p50 ${ms(fan.p50)} ms, p99 ${ms(fan.p99)} ms, missing ${fan.missing}`);
  }
  if (runs("tap")) {
    log("tap to screen");
    const tap = results.tapToScreen = await tapToScreen(ctx, { rounds: settings.rounds, taps: 60 });
    log(`  p50 ${ms(tap.p50)} ms, p99 ${ms(tap.p99)} ms over ${tap.receipts} receipts, missing ${tap.missing}`);
  }
  if (runs("growth")) {
    log("growth");
    results.growth = await growth(ctx, stack.adminDbUrl, { rounds: settings.rounds });
    for (const g of results.growth) {
      log(`  ${g.call}: ${ms(g.empty.p50)} → ${ms(g.grown.p50)} ms (${g.ratio.toFixed(2)}×)`);
    }
  }
  if (runs("capacity")) {
    log("capacity");
    const cap = results.capacity = await capacity(ctx, {
      stepSeconds: Number(process.env.BENCH_CAPACITY_SECONDS ?? 10),
      startDevices: 50,
      maxDevices: 12800,
      // BENCH_CAPACITY_SYNC=off: the CPU-bound view, where a slow or shared disk hides the database's own limit.
      synchronousCommit: process.env.BENCH_CAPACITY_SYNC === "off" ? "off" : "on",
    });
    for (const s of cap.steps) {
      log(
        `  ${s.devices} devices: ${perSec(s.callsPerSecond)} calls/s, p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms, ` +
          `${s.errors} errors`,
      );
    }
    log(`  served with p99 < 50 ms: ${cap.served} devices`);
  }

  await writeResults(results, repoRoot, { record });
  console.log("\n" + markdownTables(results));
  log(
    record
      ? "recorded bench/results/latest.md, latest.svg, latest.json"
      : "wrote bench/results/raw/latest.{md,svg,json} (not tracked); `npm run bench -- --record` records them",
  );
} finally {
  await ctx.close();
  await stack.stop();
}
