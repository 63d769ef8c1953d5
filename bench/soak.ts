// npm run soak: many devices run the capacity mix (bench/capacity.ts) through
// the edge functions for N minutes while faults are injected every 30 s, in
// turn: the client backends killed, one busy cart's row lock held for 20 s, a
// Postgres restart. Devices behave as the contract says: every change carries
// an Idempotency-Key and is retried with it on 503 and network errors, after
// Retry-After. Prints one line a minute (calls, p50 and p99, refusals by code,
// 5xx, the function server's resident memory, Postgres connections) and at the
// end lost and doubled adds and every invariant through the ops views.
//
//   npm run soak                     10 minutes, 200 devices
//   npm run soak -- --minutes 5      or SOAK_MINUTES=5; SOAK_DEVICES=400
//   npm run soak -- --record         also writes bench/results/soak.md
//
// Not part of CI: it runs for minutes and its figures depend on the host.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { repoRoot } from "../scripts/lib/database.ts";
import { staffToken, startStack } from "../scripts/lib/stack.ts";
import type { RpcName } from "../functions/_shared/rpc.ts";
import { BenchContext } from "./context.ts";
import { type Device, type MixCall, seedStores, shopFloorAction } from "./capacity.ts";
import { percentile } from "./lib.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const MINUTES = Number(flag("--minutes") ?? process.env.SOAK_MINUTES ?? 10);
const DEVICES = Number(flag("--devices") ?? process.env.SOAK_DEVICES ?? 200);
const RECORD = args.includes("--record");
const FAULT_EVERY_MS = 30_000;
const LOCK_HELD_MS = 20_000;
const PACE: [number, number] = [2, 5];
if (!(MINUTES > 0 && DEVICES > 0)) {
  console.error("usage: npm run soak [-- --minutes N] [--devices N] [--record]");
  process.exit(2);
}

/** The HTTP request of each RPC in the mix, as the contract routes it. */
function request(name: RpcName, a: Record<string, any>): { method: string; path: string; body?: unknown } {
  switch (name) {
    case "get_or_create_cart":
      return { method: "POST", path: "/carts", body: { location_id: a.p_location_id, device_id: a.p_device_id } };
    case "add_item":
      return {
        method: "POST",
        path: `/carts/${a.p_cart_id}/items`,
        body: { product_id: a.p_product_id, quantity: a.p_quantity, options: a.p_options },
      };
    case "set_item_quantity":
      return { method: "PATCH", path: `/carts/${a.p_cart_id}/items/${a.p_item_id}`, body: { quantity: a.p_quantity } };
    case "remove_item":
      return { method: "DELETE", path: `/carts/${a.p_cart_id}/items/${a.p_item_id}` };
    case "lock_cart":
      return { method: "POST", path: `/carts/${a.p_cart_id}/lock`, body: { checkout_ref: a.p_checkout_ref } };
    case "complete_checkout":
      return {
        method: "POST",
        path: `/carts/${a.p_cart_id}/checkout`,
        body: { lock_token: a.p_lock_token, checkout_ref: a.p_checkout_ref, paid_total_cents: a.p_paid_total_cents },
      };
    case "add_to_queue":
      return { method: "POST", path: "/queue", body: { location_id: a.p_location_id, customer_id: a.p_customer_id } };
    case "call_next":
      return { method: "POST", path: "/queue/next", body: { location_id: a.p_location_id } };
    case "complete_queue_entry":
      return { method: "POST", path: `/queue/${a.p_entry_id}/complete` };
    default:
      throw new Error(`the soak's mix has no route for ${name}`);
  }
}

interface Answer {
  at: number;
  ms: number;
  status: number | "network";
  code: string | null;
  /** The cart the call was about, to tell the held cart's own calls from everyone else's. */
  cart: string | null;
}

class Refused extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(`${status} ${code}`);
  }
}

const log = (line: string) => console.log(`[soak] ${line}`);

// The test stack's Postgres (no fsync): the soak is about faults and leaks, and a
// shared disk's flush stalls would hide them (npm run bench measures durable commits).
const stack = await startStack({ port: Number(process.env.PORT ?? 0) || undefined });
const ctx = new BenchContext(stack);
// Named, so that the kills spare the soak's own connections (the held lock among them).
const SOAK_APP = "onecart_soak";
const admin = ctx.pool(2, stack.adminDbUrl, { application_name: SOAK_APP });
const answers: Answer[] = [];
const acknowledgedTaps = new Set<string>();
let started = 0;

try {
  log(`seeding; then ${DEVICES} devices for ${MINUTES} min, a fault every ${FAULT_EVERY_MS / 1000} s`);
  const stores = await seedStores(admin);
  const tokens = new Map(
    await Promise.all(stores.map(async (s) => [s.id, await staffToken(stack.jwtSecret, s.staff, 7200)] as const)),
  );
  const devices: Device[] = Array.from({ length: DEVICES }, (_, i) => {
    const store = stores[i % stores.length];
    return {
      store,
      location: store.locations[Math.floor(i / stores.length) % store.locations.length],
      name: `soak-${i}`,
      cart: null,
    };
  });

  /** A device's call through the functions, retried with its key as the contract says. */
  const callFor = (device: Device): MixCall => async (name, rpcArgs) => {
    const key = crypto.randomUUID();
    const tap = name === "add_item" ? key : null;
    const req = request(name, tap ? { ...rpcArgs, p_options: { tap } } : rpcArgs);
    const cart = (rpcArgs.p_cart_id as string | undefined) ?? null;
    for (let attempt = 1; attempt <= 20; attempt++) {
      const t = performance.now();
      let status: number | "network" = "network";
      let body: any = null;
      let retryAfter = 1;
      try {
        const res = await fetch(`${stack.apiUrl}/functions/v1${req.path}`, {
          method: req.method,
          headers: {
            authorization: `Bearer ${tokens.get(device.store.id)}`,
            "idempotency-key": key,
            ...(req.body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(30_000),
        });
        status = res.status;
        retryAfter = Number(res.headers.get("retry-after") ?? 1);
        const text = await res.text();
        body = text ? JSON.parse(text) : null;
      } catch {
        // The server was unreachable or the answer was lost: retried with the same key.
      }
      const code = typeof status === "number" && status >= 400 ? body?.error?.code ?? String(status) : null;
      answers.push({ at: performance.now(), ms: performance.now() - t, status, code, cart });
      if (status === 200 || status === 204) {
        if (tap) acknowledgedTaps.add(tap);
        return body;
      }
      if (status !== 503 && status !== "network") throw new Refused(status, code ?? "");
      await new Promise((r) => setTimeout(r, Math.min(Math.max(retryAfter, 0.2), 2) * 1000));
    }
    throw new Error(`${name} gave up after 20 attempts`);
  };

  const until = () => started + MINUTES * 60_000;
  started = performance.now();
  const work = Promise.all(devices.map(async (device) => {
    await new Promise((r) => setTimeout(r, Math.random() * PACE[1] * 1000));
    while (performance.now() < until()) {
      try {
        await shopFloorAction(device, callFor(device));
      } catch {
        device.cart = null; // counted; the device starts over with a fresh read
      }
      await new Promise((r) => setTimeout(r, (PACE[0] + Math.random() * (PACE[1] - PACE[0])) * 1000));
    }
  }));

  // The faults, in turn.
  interface Fault {
    kind: string;
    at: number;
    cart?: string;
    seconds?: number;
  }
  const faults: Fault[] = [];
  const kinds = ["backends killed", "row lock held 20 s", "Postgres restart"];
  const injector = (async () => {
    for (let n = 0;; n++) {
      const next = started + (n + 1) * FAULT_EVERY_MS;
      if (next + FAULT_EVERY_MS / 2 > until()) return;
      await new Promise((r) => setTimeout(r, next - performance.now()));
      const kind = kinds[n % kinds.length];
      const fault: Fault = { kind, at: performance.now() };
      faults.push(fault);
      try {
        if (kind === "backends killed") {
          await admin`select pg_terminate_backend(pid) from pg_stat_activity
            where backend_type = 'client backend' and application_name <> ${SOAK_APP}
              and datname = current_database()`;
        } else if (kind === "row lock held 20 s") {
          const busy = devices.find((d) => d.cart)?.cart?.id;
          if (!busy) continue;
          fault.cart = busy;
          void admin.begin(async (tx) => {
            await tx`select 1 from pos.carts where id = ${busy} for update`;
            await new Promise((r) => setTimeout(r, LOCK_HELD_MS));
          }).catch(() => {});
        } else {
          const t = performance.now();
          await stack.postgres.restart();
          fault.seconds = (performance.now() - t) / 1000;
        }
      } catch (error) {
        log(`fault ${kind} failed: ${String(error)}`);
      }
      log(
        `fault at ${((fault.at - started) / 1000).toFixed(0)} s: ${kind}${fault.cart ? ` (cart ${fault.cart})` : ""}`,
      );
    }
  })();

  // One line a minute.
  const rssKb = async () => {
    const status = await readFile(`/proc/${stack.server.process.pid}/status`, "utf8").catch(() => "");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  };
  const connections = async () => {
    try {
      const [{ n }] =
        await admin`select count(*)::int as n from pg_stat_activity where backend_type = 'client backend'`;
      return String(n);
    } catch {
      return "-";
    }
  };
  const minutes: string[] = [];
  const header =
    "| minute | calls | p50 ms | p99 ms | refusals by code | 5xx | of which 500 | server RSS MB | Postgres connections |";
  const summarize = (from: number, to: number) => {
    const window = answers.filter((a) => a.at >= from && a.at < to);
    const ms = window.map((a) => a.ms).sort((a, b) => a - b);
    const codes: Record<string, number> = {};
    for (const a of window) if (a.code) codes[a.code] = (codes[a.code] ?? 0) + 1;
    const network = window.filter((a) => a.status === "network").length;
    if (network) codes["network error"] = network;
    const fiveXX = window.filter((a) => typeof a.status === "number" && a.status >= 500).length;
    const fiveHundred = window.filter((a) => a.status === 500).length;
    return { calls: window.length, p50: percentile(ms, 50), p99: percentile(ms, 99), codes, fiveXX, fiveHundred };
  };
  const reporter = (async () => {
    for (let m = 1; m <= MINUTES; m++) {
      await new Promise((r) => setTimeout(r, started + m * 60_000 - performance.now()));
      const s = summarize(started + (m - 1) * 60_000, started + m * 60_000);
      const row = `| ${m} | ${s.calls} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${
        Object.entries(s.codes).map(([c, n]) => `${c} ${n}`).join(", ") || "none"
      } | ${s.fiveXX} | ${s.fiveHundred} | ${((await rssKb()) / 1024).toFixed(0)} | ${await connections()} |`;
      minutes.push(row);
      if (m === 1) log(header);
      log(row);
    }
  })();

  await Promise.all([work, injector, reporter]);
  // Let the last retries and the held lock finish.
  await new Promise((r) => setTimeout(r, 2000));

  // How each fault was felt: p99 of the calls started in the 5 s before it and
  // in each 5 s after, the held cart's own calls apart.
  const p99 = (xs: Answer[]) => percentile(xs.map((a) => a.ms).sort((a, b) => a - b), 99);
  const faultRows = faults.map((f) => {
    const windowOf = (from: number, to: number) =>
      answers.filter((a) => a.at - a.ms >= f.at + from && a.at - a.ms < f.at + to && a.cart !== f.cart);
    const before = windowOf(-5000, 0);
    const after = [0, 5000, 10_000, 15_000, 20_000].map((t) => windowOf(t, t + 5000));
    const refusedAfter = after.map((w) => w.filter((a) => a.status !== 200 && a.status !== 204).length);
    const held = f.cart ? answers.filter((a) => a.cart === f.cart && a.at >= f.at && a.at < f.at + LOCK_HELD_MS) : [];
    return `| ${((f.at - started) / 1000).toFixed(0)} s | ${f.kind}${
      f.seconds ? ` (${f.seconds.toFixed(1)} s down)` : ""
    } | ${p99(before).toFixed(0)} | ${after.map((w) => p99(w).toFixed(0)).join(" / ")} | ${
      refusedAfter.join(" / ")
    } | ${f.cart ? `${held.length} calls, ${held.filter((a) => a.code === "busy").length} busy` : ""} |`;
  });
  const faultHeader =
    "| at | fault | p99 ms, 5 s before | p99 ms, each 5 s after (0–25 s), other carts | not 200, each 5 s after | the held cart's own calls |";

  // What the database holds: every acknowledged add exactly once.
  const events = await admin<{ tap: string; n: number }[]>`
    select data -> 'options' ->> 'tap' as tap, count(*)::int as n from pos.cart_events
    where kind = 'item_added' and data -> 'options' ? 'tap' group by 1`;
  const seen = new Map(events.map((e) => [e.tap, e.n]));
  const lost = [...acknowledgedTaps].filter((t) => !seen.has(t)).length;
  const doubled = events.filter((e) => e.n > 1).length;
  const views = await admin<{ name: string }[]>`
    select table_name as name from information_schema.views where table_schema = 'ops' order by 1`;
  const invariants = ["duplicate_open_carts", "cart_total_mismatches", "cart_history_gaps", "queue_entries_off_cart"];
  const viewRows: string[] = [];
  for (const { name } of views) {
    const [{ n }] = await admin.unsafe(`select count(*)::int as n from ops.${name}`);
    viewRows.push(`| ops.${name} | ${n} | ${invariants.includes(name) ? "invariant: must be 0" : "report"} |`);
  }
  const total = summarize(started, performance.now());
  const rss = await rssKb();

  const report = [
    `# Soak: ${MINUTES} min, ${DEVICES} devices, a fault every ${FAULT_EVERY_MS / 1000} s`,
    "",
    `Run ${
      new Date().toISOString().slice(0, 16).replace("T", " ")
    } UTC; the capacity mix through the edge functions (pool of 3 per instance, one instance), Postgres without fsync.`,
    "",
    header,
    "|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ...minutes,
    "",
    faultHeader,
    "|---:|---|---:|---|---|---|",
    ...faultRows,
    "",
    `Totals: ${total.calls} calls, ${acknowledgedTaps.size} acknowledged adds, lost ${lost}, doubled ${doubled}, 500s ${total.fiveHundred}; server RSS at the end ${
      (rss / 1024).toFixed(0)
    } MB.`,
    "",
    "| ops view | rows | |",
    "|---|---:|---|",
    ...viewRows,
    "",
  ].join("\n");
  console.log("\n" + report);
  if (RECORD) {
    await writeFile(join(repoRoot, "bench", "results", "soak.md"), report);
    log("recorded bench/results/soak.md");
  }
  const broken = viewRows.filter((r) => r.includes("invariant") && !r.includes("| 0 |"));
  if (lost || doubled || total.fiveHundred || broken.length) process.exitCode = 1;
} finally {
  // A connection of the soak's own can be left mid-call by the last fault;
  // waiting for it would keep the run from ever ending.
  await admin.end({ timeout: 2 }).catch(() => {});
  await ctx.close();
  await stack.stop();
}
