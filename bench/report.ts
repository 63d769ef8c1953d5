// bench/results/latest.md (tables), latest.svg (a chart) and latest.json.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, release, totalmem, type as osType } from "node:os";
import { join } from "node:path";
import type { FanOut } from "./fan-out.ts";
import type { GrowthRow } from "./growth.ts";
import type { FunctionPath, HotCartRow } from "./hot-cart.ts";
import { ms, perSec } from "./lib.ts";
import type { Strategy } from "./race-lab.ts";
import type { Capacity } from "./capacity.ts";
import type { TapToScreen } from "./tap.ts";

export interface Results {
  date: string;
  versions: Record<string, string>;
  settings: { rounds: number; seconds: number };
  hotCart: HotCartRow[];
  raceLab: Strategy[];
  functionPath: FunctionPath | null;
  fanOut: FanOut | null;
  growth: GrowthRow[];
  tapToScreen: TapToScreen | null;
  capacity: Capacity | null;
  notes: string[];
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

export function machine(): string {
  const cpu = cpus();
  return `${osType()} ${release()}, ${cpu.length} × ${cpu[0]?.model.trim() ?? "cpu"}, ${
    Math.round(totalmem() / 2 ** 30)
  } GiB`;
}

/** The ceiling beside a hot-cart ratio: what the contract's writes alone reach in the same run. */
const floorNote = (h: HotCartRow) => (h.floor ? ` (the contract's writes alone: ${pct(h.floorRatio)})` : "");

export function markdownTables(r: Results): string {
  const hot = (clients: number, carts: number) =>
    r.hotCart.find((h) => h.clients === clients && h.carts === carts && h.synchronousCommit === "on");
  const hot1 = hot(10, 1);
  const hot10 = hot(10, 10);
  const lab = r.raceLab.at(-1);
  const targets = [
    hot1 &&
    `| hot cart, 10 clients on one cart: add_item ≥ 50% of the raw update | ${pct(hot1.ratio)}${floorNote(hot1)} | ${
      verdict(hot1.ratio >= 0.5)
    } |`,
    hot10 &&
    `| 10 clients on 10 carts: add_item ≥ 60% of the raw update | ${pct(hot10.ratio)}${floorNote(hot10)} | ${
      verdict(hot10.ratio >= 0.6)
    } |`,
    lab &&
    `| race lab: onecart loses nothing, naive strategies show losses | onecart lost ${lab.lostUpdates}, duplicated ${lab.duplicateCarts} | ${
      verdict(lab.lostUpdates === 0 && lab.duplicateCarts === 0 && r.raceLab[0].lostUpdates > 0)
    } |`,
    r.functionPath &&
    `| function path ≥ 60% of the direct RPC | ${pct(r.functionPath.ratio)} | ${
      verdict(r.functionPath.ratio >= 0.6)
    } |`,
    r.fanOut && `| fan-out p99 < 50 ms at 10 devices | ${ms(r.fanOut.p99)} ms | ${verdict(r.fanOut.p99 < 50)} |`,
    r.tapToScreen &&
    `| tap to screen at 10 devices: p50, p99 | ${ms(r.tapToScreen.p50)} ms, ${
      ms(r.tapToScreen.p99)
    } ms (${r.tapToScreen.missing} missing) | measured |`,
    r.growth.length > 0 &&
    `| growth within 1.5× (p50) | ${r.growth.map((g) => `${g.call} ${g.ratio.toFixed(2)}×`).join(", ")} | ${
      verdict(r.growth.every((g) => g.ratio <= 1.5))
    } |`,
    r.capacity &&
    `| capacity: devices served with every call's p99 < 50 ms | ${perSec(r.capacity.served)} devices | measured |`,
  ].filter(Boolean) as string[];
  const lines = [
    `Measured ${r.date} on ${machine()}; ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
    `Medians over ${r.settings.rounds} rounds (${r.settings.seconds} s each for timed loads). One Postgres, one run.`,
    "",
    "| target | result | |",
    "|---|---|---|",
    ...targets,
  ];
  if (r.hotCart.length) {
    lines.push(
      "",
      "**1. Hot cart** (carts of 5 lines; raw = `update … set n = n + 1` on one row per cart; writes alone = `bench.contract_writes`, the writes the contract requires of one add and nothing else: row lock, line, version and totals with their event, a broadcast row; all as `authenticated` with claims set, in one transaction, rounds interleaved; synchronous_commit on = every commit waits for its WAL flush, as on Supabase; off = the CPU-bound view)",
      "",
      "| clients | carts | sync commit | add_item ops/s | p50 ms | p99 ms | raw update ops/s | p50 ms | p99 ms | ratio | writes alone ops/s | writes alone ratio |",
      "|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...r.hotCart.map((h) =>
        `| ${h.clients} | ${h.carts ?? 1} | ${h.synchronousCommit} | ${perSec(h.rpc.throughput)} | ${ms(h.rpc.p50)} | ${
          ms(h.rpc.p99)
        } | ${perSec(h.raw.throughput)} | ${ms(h.raw.p50)} | ${ms(h.raw.p99)} | ${pct(h.ratio)} | ${
          h.floor ? perSec(h.floor.throughput) : "n/a"
        } | ${h.floor ? pct(h.floorRatio) : "n/a"} |`
      ),
    );
  }
  if (r.raceLab.length) {
    lines.push(
      "",
      "**2. Race lab** (10 clients adding to one cart; 10 concurrent get-or-create per round)",
      "",
      "| strategy | lost updates | duplicate carts | ops/s | p99 ms |",
      "|---|---:|---:|---:|---:|",
      ...r.raceLab.map((s) =>
        `| ${s.name} | ${s.lostUpdates} | ${s.duplicateCarts} | ${perSec(s.add.throughput)} | ${ms(s.add.p99)} |`
      ),
    );
  }
  if (r.functionPath) {
    const f = r.functionPath;
    lines.push(
      "",
      `**3. Function path** (${f.clients} clients, HTTP keep-alive through the edge function vs the direct RPC)`,
      "",
      "| path | ops/s | p50 ms | p99 ms |",
      "|---|---:|---:|---:|",
      `| edge function over HTTP | ${perSec(f.http.throughput)} | ${ms(f.http.p50)} | ${ms(f.http.p99)} |`,
      `| direct RPC | ${perSec(f.direct.throughput)} | ${ms(f.direct.p50)} | ${ms(f.direct.p99)} |`,
      `| ratio | ${pct(f.ratio)} | | |`,
    );
  }
  if (r.fanOut) {
    lines.push(
      "",
      `**4. Fan-out** (commit acknowledged → snapshot received, ${r.fanOut.devices} supabase-js devices, ${r.fanOut.messages} messages, ${r.fanOut.missing} missing)`,
      "",
      "| p50 ms | p99 ms |",
      "|---:|---:|",
      `| ${ms(r.fanOut.p50)} | ${ms(r.fanOut.p99)} |`,
    );
  }
  if (r.growth.length) {
    lines.push(
      "",
      "**5. Growth** (10,000 open carts over 100 locations and 1,000 waiting entries vs only what the calls need; one client)",
      "",
      "| call | empty p50 ms | p99 ms | grown p50 ms | p99 ms | grown / empty (p50) |",
      "|---|---:|---:|---:|---:|---:|",
      ...r.growth.map((g) =>
        `| ${g.call} | ${ms(g.empty.p50)} | ${ms(g.empty.p99)} | ${ms(g.grown.p50)} | ${ms(g.grown.p99)} | ${
          g.ratio.toFixed(2)
        }× |`
      ),
    );
  }
  if (r.tapToScreen) {
    const t = r.tapToScreen;
    lines.push(
      "",
      `**6. Tap to screen** (a device's \`functions.invoke\` of an add → every other device's \`cart_updated\` of that version; ${t.devices} supabase-js devices on the cart, ${t.taps} taps, ${t.receipts} receipts, ${t.missing} missing)`,
      "",
      "| p50 ms | p99 ms | the tapping device's invoke p50 ms |",
      "|---:|---:|---:|",
      `| ${ms(t.p50)} | ${ms(t.p99)} | ${ms(t.invokeP50)} |`,
    );
  }
  if (r.capacity) {
    const c = r.capacity;
    lines.push(
      "",
      `**7. Capacity** (devices across ${c.stores} stores, each acting every ${c.paceSeconds[0]}–${
        c.paceSeconds[1]
      } s: ${
        Object.entries(c.mix).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${pct(v)}`).join(", ")
      }; RPCs through a pool of ${c.pool} connections; synchronous_commit ${
        c.synchronousCommit ?? "on"
      }; ${c.stepSeconds} s measured per step)`,
      "",
      "| devices | calls/s | changes/s | p50 ms | p99 ms | errors |",
      "|---:|---:|---:|---:|---:|---:|",
      ...c.steps.map((s) =>
        `| ${perSec(s.devices)} | ${perSec(s.callsPerSecond)} | ${perSec(s.changesPerSecond)} | ${ms(s.p50)} | ${
          ms(s.p99)
        } | ${s.errors} |`
      ),
      "",
      `Served with every call's p99 under 50 ms: **${perSec(c.served)} devices**.`,
    );
  }
  return lines.join("\n");
}

export function markdown(r: Results): string {
  return [
    "# onecart benchmarks: latest run",
    "",
    "Written by `npm run bench`. The chart is `latest.svg`.",
    "",
    markdownTables(r),
    "",
    "## What bounds the results",
    "",
    ...r.notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
}

function esc(s: string) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

/** One panel of horizontal bars per benchmark, each with its target line. */
export function svg(r: Results): string {
  const W = 960, pad = 16, labelW = 260, barMax = W - labelW - 300, barH = 24, gap = 6;
  type Bar = { label: string; value: number; text: string; color: string };
  type Panel = { title: string; bars: Bar[]; max: number; target?: { at: number; label: string } };
  const blue = "#3b6ea8", gray = "#9aa5b1", red = "#c0392b", green = "#2e8b57";
  const panels: Panel[] = [];
  if (r.hotCart.length) {
    panels.push({
      title: "1. Hot cart: add_item throughput as a share of a raw single-row update",
      bars: r.hotCart.map((h) => ({
        label: `${h.clients} client${h.clients > 1 ? "s" : ""}, ${h.carts ?? 1} cart${
          (h.carts ?? 1) > 1 ? "s" : ""
        }, sync ${h.synchronousCommit}`,
        value: h.ratio,
        text: `${pct(h.ratio)} (${perSec(h.rpc.throughput)} vs ${perSec(h.raw.throughput)} ops/s)`,
        color: h.synchronousCommit === "on" ? blue : gray,
      })),
      max: 1,
      target: { at: 0.5, label: "targets: 50% on one cart, 60% on 10 carts (sync on)" },
    });
  }
  if (r.raceLab.length) {
    panels.push({
      title: "2. Race lab: updates lost + duplicate carts, 10 clients on one cart",
      bars: r.raceLab.map((s) => ({
        label: s.name,
        value: s.lostUpdates + s.duplicateCarts,
        text: `${s.lostUpdates} lost, ${s.duplicateCarts} duplicate carts · ${perSec(s.add.throughput)} ops/s`,
        color: s.lostUpdates + s.duplicateCarts === 0 ? green : red,
      })),
      max: Math.max(1, ...r.raceLab.map((s) => s.lostUpdates + s.duplicateCarts)),
    });
  }
  if (r.functionPath) {
    const f = r.functionPath;
    panels.push({
      title: "3. Function path: edge function over HTTP as a share of the direct RPC",
      bars: [{
        label: `${f.clients} clients`,
        value: f.ratio,
        text: `${pct(f.ratio)} (${perSec(f.http.throughput)} vs ${perSec(f.direct.throughput)} ops/s)`,
        color: blue,
      }],
      max: 1,
      target: { at: 0.6, label: "target 60%" },
    });
  }
  if (r.fanOut) {
    panels.push({
      title: `4. Fan-out: commit to receipt at ${r.fanOut.devices} devices, ms`,
      bars: [
        { label: "p50", value: r.fanOut.p50, text: `${ms(r.fanOut.p50)} ms`, color: gray },
        { label: "p99", value: r.fanOut.p99, text: `${ms(r.fanOut.p99)} ms`, color: blue },
      ],
      max: 60,
      target: { at: 50, label: "target: p99 under 50 ms" },
    });
  }
  if (r.growth.length) {
    panels.push({
      title: "5. Growth: p50 with 10,000 open carts ÷ p50 on an empty database",
      bars: r.growth.map((g) => ({ label: g.call, value: g.ratio, text: `${g.ratio.toFixed(2)}×`, color: blue })),
      max: 2,
      target: { at: 1.5, label: "limit 1.5×" },
    });
  }
  if (r.tapToScreen) {
    const t = r.tapToScreen;
    panels.push({
      title: `6. Tap to screen: functions.invoke to cart_updated on the other ${t.devices - 1} devices, ms`,
      bars: [
        { label: "p50", value: t.p50, text: `${ms(t.p50)} ms`, color: gray },
        { label: "p99", value: t.p99, text: `${ms(t.p99)} ms`, color: blue },
      ],
      max: Math.max(60, t.p99 * 1.1),
    });
  }
  if (r.capacity) {
    const c = r.capacity;
    panels.push({
      title: `7. Capacity: p99 of every call by number of devices (served: ${perSec(c.served)})`,
      bars: c.steps.map((s) => ({
        label: `${perSec(s.devices)} devices`,
        value: s.p99,
        text: `p99 ${ms(s.p99)} ms · ${perSec(s.callsPerSecond)} calls/s`,
        color: s.p99 < 50 ? blue : red,
      })),
      max: 100,
      target: { at: 50, label: "p99 50 ms" },
    });
  }
  const parts: string[] = [];
  let top = 60;
  for (const panel of panels) {
    parts.push(`<text x="${pad}" y="${top + 22}" font-weight="bold">${esc(panel.title)}</text>`);
    panel.bars.forEach((bar, i) => {
      const y = top + 34 + i * (barH + gap);
      const w = Math.max(1, Math.min(1, bar.value / panel.max) * barMax);
      parts.push(`<text x="${labelW - 8}" y="${y + barH * 0.7}" text-anchor="end">${esc(bar.label)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${bar.color}"/>`);
      parts.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + barH * 0.7}" fill="#333">${esc(bar.text)}</text>`);
    });
    const bottom = top + 34 + panel.bars.length * (barH + gap);
    if (panel.target) {
      const x = labelW + (panel.target.at / panel.max) * barMax;
      parts.push(
        `<line x1="${x}" y1="${
          top + 30
        }" x2="${x}" y2="${bottom}" stroke="#e67e22" stroke-width="2" stroke-dasharray="5,3"/>`,
      );
      parts.push(`<text x="${x + 4}" y="${bottom + 14}" fill="#e67e22">${esc(panel.target.label)}</text>`);
    }
    top = bottom + 30;
  }
  const H = top + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${pad}" y="28" font-size="18" font-weight="bold">onecart benchmarks, ${esc(r.date)}</text>`,
    `<text x="${pad}" y="46" fill="#555">${esc(machine())}</text>`,
    ...parts,
    "</svg>",
  ].join("\n");
}

/**
 * Writes latest.{md,svg,json} to bench/results/raw/ (not tracked). Recording
 * writes them to bench/results/ instead, the one tracked copy of the tables:
 * the tracked files change only when someone means to record a run.
 */
export async function writeResults(r: Results, repoRoot: string, opts: { record: boolean }): Promise<void> {
  const out = join(repoRoot, "bench", "results", ...(opts.record ? [] : ["raw"]));
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "latest.md"), markdown(r));
  await writeFile(join(out, "latest.svg"), svg(r));
  await writeFile(join(out, "latest.json"), JSON.stringify(r, null, 2) + "\n");
}

/** The bullets of bench/NOTES.md. */
export async function readNotes(repoRoot: string): Promise<string[]> {
  // The bullets before the profile's heading; the profile's own stay in NOTES.md.
  const text = (await readFile(join(repoRoot, "bench", "NOTES.md"), "utf8")).split("\n## ")[0];
  return text.split("\n").filter((l) => l.startsWith("- ")).map((l) => l.slice(2));
}
