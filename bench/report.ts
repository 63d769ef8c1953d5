// bench/results/latest.md (tables), latest.svg (a chart) and the README's copy.
import { cpus, totalmem, type as osType, release } from "node:os";
import type { FanOut } from "./fan-out.ts";
import type { GrowthRow } from "./growth.ts";
import type { FunctionPath, HotCartRow } from "./hot-cart.ts";
import { ms, perSec } from "./lib.ts";
import type { Strategy } from "./race-lab.ts";

export interface Results {
  date: string;
  versions: Record<string, string>;
  settings: { rounds: number; seconds: number };
  hotCart: HotCartRow[];
  raceLab: Strategy[];
  functionPath: FunctionPath;
  fanOut: FanOut;
  growth: GrowthRow[];
  notes: string[];
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

export function machine(): string {
  const cpu = cpus();
  return `${osType()} ${release()}, ${cpu.length} × ${cpu[0]?.model.trim() ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
}

export function markdownTables(r: Results): string {
  const hot10 = r.hotCart.find((h) => h.clients === 10 && h.synchronousCommit === "on")!;
  const lines = [
    `Measured ${r.date} on ${machine()}; ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
    `Medians over ${r.settings.rounds} rounds (${r.settings.seconds} s each for timed loads). One Postgres, one run.`,
    "",
    "| target | result | |",
    "|---|---|---|",
    `| hot cart at 10 clients: add_item ≥ 50% of the raw update | ${pct(hot10.ratio)} | ${verdict(hot10.ratio >= 0.5)} |`,
    `| race lab: onecart loses nothing, naive strategies show losses | onecart lost ${r.raceLab.at(-1)!.lostUpdates}, duplicated ${r.raceLab.at(-1)!.duplicateCarts} | ${verdict(r.raceLab.at(-1)!.lostUpdates === 0 && r.raceLab.at(-1)!.duplicateCarts === 0 && r.raceLab[0].lostUpdates > 0)} |`,
    `| function path ≥ 60% of the direct RPC | ${pct(r.functionPath.ratio)} | ${verdict(r.functionPath.ratio >= 0.6)} |`,
    `| fan-out p99 < 50 ms at 10 devices | ${ms(r.fanOut.p99)} ms | ${verdict(r.fanOut.p99 < 50)} |`,
    `| growth within 1.5× (p50) | ${r.growth.map((g) => `${g.call} ${g.ratio.toFixed(2)}×`).join(", ")} | ${verdict(r.growth.every((g) => g.ratio <= 1.5))} |`,
    "",
    "**1. Hot cart** (one cart of 5 lines; raw = `update … set n = n + 1` on one row; synchronous_commit on = every commit waits for its WAL flush, as on Supabase; off = the CPU-bound view)",
    "",
    "| clients | sync commit | add_item ops/s | p50 ms | p99 ms | raw update ops/s | p50 ms | p99 ms | ratio |",
    "|---:|:---:|---:|---:|---:|---:|---:|---:|---:|",
    ...r.hotCart.map((h) => `| ${h.clients} | ${h.synchronousCommit} | ${perSec(h.rpc.throughput)} | ${ms(h.rpc.p50)} | ${ms(h.rpc.p99)} | ${perSec(h.raw.throughput)} | ${ms(h.raw.p50)} | ${ms(h.raw.p99)} | ${pct(h.ratio)} |`),
    "",
    "**2. Race lab** (10 clients adding to one cart; 10 concurrent get-or-create per round)",
    "",
    "| strategy | lost updates | duplicate carts | ops/s | p99 ms |",
    "|---|---:|---:|---:|---:|",
    ...r.raceLab.map((s) => `| ${s.name} | ${s.lostUpdates} | ${s.duplicateCarts} | ${perSec(s.add.throughput)} | ${ms(s.add.p99)} |`),
    "",
    `**3. Function path** (${r.functionPath.clients} clients, HTTP keep-alive through the edge function vs the direct RPC)`,
    "",
    "| path | ops/s | p50 ms | p99 ms |",
    "|---|---:|---:|---:|",
    `| edge function over HTTP | ${perSec(r.functionPath.http.throughput)} | ${ms(r.functionPath.http.p50)} | ${ms(r.functionPath.http.p99)} |`,
    `| direct RPC | ${perSec(r.functionPath.direct.throughput)} | ${ms(r.functionPath.direct.p50)} | ${ms(r.functionPath.direct.p99)} |`,
    `| ratio | ${pct(r.functionPath.ratio)} | | |`,
    "",
    `**4. Fan-out** (commit acknowledged → snapshot received, ${r.fanOut.devices} supabase-js devices, ${r.fanOut.messages} messages, ${r.fanOut.missing} missing)`,
    "",
    "| p50 ms | p99 ms |",
    "|---:|---:|",
    `| ${ms(r.fanOut.p50)} | ${ms(r.fanOut.p99)} |`,
    "",
    "**5. Growth** (10,000 open carts over 100 locations and 1,000 waiting entries vs only what the calls need; one client)",
    "",
    "| call | empty p50 ms | p99 ms | grown p50 ms | p99 ms | grown / empty (p50) |",
    "|---|---:|---:|---:|---:|---:|",
    ...r.growth.map((g) => `| ${g.call} | ${ms(g.empty.p50)} | ${ms(g.empty.p99)} | ${ms(g.grown.p50)} | ${ms(g.grown.p99)} | ${g.ratio.toFixed(2)}× |`),
  ];
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

/** Four panels of horizontal bars, each with its target line. */
export function svg(r: Results): string {
  const W = 960, panelH = 230, pad = 16, labelW = 250, barMax = W - labelW - 120;
  type Bar = { label: string; value: number; text: string; color: string };
  const panels: Array<{ title: string; bars: Bar[]; max: number; target?: { at: number; label: string } }> = [];
  const blue = "#3b6ea8", gray = "#9aa5b1", red = "#c0392b", green = "#2e8b57";
  panels.push({
    title: "1. Hot cart: add_item throughput as a share of a raw single-row update",
    bars: r.hotCart.map((h) => ({
      label: `${h.clients} client${h.clients > 1 ? "s" : ""}, sync commit ${h.synchronousCommit}`, value: h.ratio,
      text: `${pct(h.ratio)} (${perSec(h.rpc.throughput)} vs ${perSec(h.raw.throughput)} ops/s)`,
      color: h.synchronousCommit === "on" ? blue : gray,
    })),
    max: 1, target: { at: 0.5, label: "target 50% at 10 clients" },
  });
  const maxLost = Math.max(1, ...r.raceLab.map((s) => s.lostUpdates + s.duplicateCarts));
  panels.push({
    title: "2. Race lab: updates lost + duplicate carts (10 clients, one cart)",
    bars: r.raceLab.map((s) => ({ label: s.name, value: s.lostUpdates + s.duplicateCarts,
      text: `${s.lostUpdates} lost, ${s.duplicateCarts} dup · ${perSec(s.add.throughput)} ops/s`,
      color: s.lostUpdates + s.duplicateCarts === 0 ? green : red })),
    max: maxLost,
  });
  panels.push({
    title: "3–4. Function path share of direct RPC; fan-out latency (ms, scale 0–60)",
    bars: [
      { label: "edge function / direct RPC", value: r.functionPath.ratio, text: pct(r.functionPath.ratio), color: blue },
      { label: "fan-out p50 (÷60 ms)", value: r.fanOut.p50 / 60, text: `${ms(r.fanOut.p50)} ms`, color: gray },
      { label: "fan-out p99 (÷60 ms)", value: r.fanOut.p99 / 60, text: `${ms(r.fanOut.p99)} ms`, color: blue },
    ],
    max: 1, target: { at: 0.6, label: "60% / ≈36 ms" },
  });
  panels.push({
    title: "5. Growth: p50 with 10,000 open carts ÷ p50 on an empty database",
    bars: r.growth.map((g) => ({ label: g.call, value: g.ratio, text: `${g.ratio.toFixed(2)}×`, color: blue })),
    max: 2, target: { at: 1.5, label: "limit 1.5×" },
  });
  const H = panels.length * panelH + 60;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${pad}" y="28" font-size="18" font-weight="bold">onecart benchmarks, ${esc(r.date)}</text>`,
    `<text x="${pad}" y="46" fill="#555">${esc(machine())}</text>`,
  ];
  panels.forEach((panel, p) => {
    const top = 60 + p * panelH;
    parts.push(`<text x="${pad}" y="${top + 22}" font-weight="bold">${esc(panel.title)}</text>`);
    const barH = Math.min(26, (panelH - 60) / panel.bars.length - 6);
    panel.bars.forEach((bar, i) => {
      const y = top + 36 + i * (barH + 6);
      const w = Math.max(1, Math.min(1, bar.value / panel.max) * barMax);
      parts.push(`<text x="${labelW - 8}" y="${y + barH * 0.7}" text-anchor="end">${esc(bar.label)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${bar.color}"/>`);
      parts.push(`<text x="${labelW + w + 6}" y="${y + barH * 0.7}" fill="#333">${esc(bar.text)}</text>`);
    });
    if (panel.target) {
      const x = labelW + (panel.target.at / panel.max) * barMax;
      const y2 = top + 36 + panel.bars.length * (barH + 6);
      parts.push(`<line x1="${x}" y1="${top + 30}" x2="${x}" y2="${y2}" stroke="#e67e22" stroke-width="2" stroke-dasharray="5,3"/>`);
      parts.push(`<text x="${x + 4}" y="${y2 + 14}" fill="#e67e22">${esc(panel.target.label)}</text>`);
    }
  });
  parts.push("</svg>");
  return parts.join("\n");
}
