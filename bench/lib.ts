// Load loops, percentiles and the "median of rounds" every benchmark reports.
import { performance } from "node:perf_hooks";

export interface Round {
  ops: number;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
}

export interface Summary {
  /** Medians over the rounds. */
  throughput: number;
  p50: number;
  p99: number;
  rounds: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(rounds: Round[]): Summary {
  return {
    throughput: median(rounds.map((r) => r.throughput)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    rounds: rounds.length,
  };
}

/** `clients` loops each calling `op(client)` back to back for `ms` milliseconds. */
export async function timedLoad(clients: number, ms: number, op: (client: number) => Promise<unknown>): Promise<Round> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + ms;
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    while (performance.now() < until) {
      const t = performance.now();
      await op(client);
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    seconds,
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** `clients` loops sharing a fixed number of operations. */
export async function countedLoad(
  clients: number,
  total: number,
  op: (client: number, i: number) => Promise<unknown>,
): Promise<Round> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    for (let i = next++; i < total; i = next++) {
      const t = performance.now();
      await op(client, i);
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    seconds,
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

export async function rounds(n: number, run: (round: number) => Promise<Round>): Promise<Summary> {
  const out: Round[] = [];
  for (let i = 0; i < n; i++) out.push(await run(i));
  return summarize(out);
}

export const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : "n/a");
export const perSec = (x: number) => Math.round(x).toLocaleString("en-US");
