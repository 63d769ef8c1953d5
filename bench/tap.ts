// 6. Tap to screen: from the moment a device calls `functions.invoke` to add an
//    item, to the moment each other device subscribed to the cart receives the
//    `cart_updated` of that version. All through the real edge function, the
//    database and Realtime; all times on one clock.
import { performance } from "node:perf_hooks";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { type BenchContext, PRODUCTS } from "./context.ts";
import { median, percentile } from "./lib.ts";

export interface TapToScreen {
  devices: number;
  taps: number;
  /** Receipts measured: taps × the devices other than the one that tapped. */
  receipts: number;
  missing: number;
  /** Medians over rounds of each round's p50 and p99, in ms. */
  p50: number;
  p99: number;
  /** The tapping device's own invoke round trip, for comparison. */
  invokeP50: number;
}

export async function tapToScreen(ctx: BenchContext, opts: { rounds: number; taps: number }): Promise<TapToScreen> {
  const DEVICES = 10;
  const pool = ctx.pool(1);
  const token = await ctx.token();
  const cartId = await ctx.cartWithFiveLines(pool, "bench-tap");
  // version → per-device receipt times
  const received = new Map<number, Map<number, number>>();
  const devices: SupabaseClient[] = Array.from(
    { length: DEVICES },
    () => createClient(ctx.stack.apiUrl, ctx.stack.anonKey, { accessToken: async () => token }),
  );
  await Promise.all(devices.map(async (device, d) => {
    await device.realtime.setAuth();
    await new Promise<void>((resolve, reject) => {
      device.channel(`cart:${cartId}`, { config: { private: true } })
        .on("broadcast", { event: "cart_updated" }, ({ payload }) => {
          const at = performance.now();
          if (!received.has(payload.version)) received.set(payload.version, new Map());
          received.get(payload.version)!.set(d, at);
        })
        .subscribe((status) => (status === "SUBSCRIBED" ? resolve() : status === "CHANNEL_ERROR" && reject()));
    });
  }));

  // Unmeasured: each device's first invoke opens its connection and warms the function.
  for (const device of devices) {
    const { error } = await device.functions.invoke(`carts/${cartId}/items`, { body: { product_id: PRODUCTS[0] } });
    if (error) throw new Error(`warm-up tap failed: ${error.message}`);
  }
  await new Promise((r) => setTimeout(r, 300));
  const p50s: number[] = [];
  const p99s: number[] = [];
  const invokes: number[] = [];
  let receipts = 0;
  let missing = 0;
  let taps = 0;
  try {
    for (let round = 0; round < opts.rounds; round++) {
      const tapped: Array<{ version: number; by: number; at: number }> = [];
      for (let i = 0; i < opts.taps; i++) {
        const by = i % DEVICES;
        const at = performance.now();
        const { data, error } = await devices[by].functions.invoke(`carts/${cartId}/items`, {
          body: { product_id: PRODUCTS[i % 5] },
        });
        if (error) throw new Error(`tap failed: ${error.message}`);
        invokes.push(performance.now() - at);
        tapped.push({ version: data.version, by, at });
        // A person taps, looks, taps again: the next tap comes after the screens caught up.
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 500));
      const latencies: number[] = [];
      for (const { version, by, at } of tapped) {
        const seen = received.get(version) ?? new Map();
        for (let d = 0; d < DEVICES; d++) {
          if (d === by) continue;
          const t = seen.get(d);
          if (t === undefined) missing++;
          else latencies.push(t - at);
        }
      }
      taps += tapped.length;
      receipts += latencies.length;
      latencies.sort((a, b) => a - b);
      p50s.push(percentile(latencies, 50));
      p99s.push(percentile(latencies, 99));
    }
  } finally {
    await Promise.all(devices.map((d) => d.removeAllChannels()));
  }
  invokes.sort((a, b) => a - b);
  return {
    devices: DEVICES,
    taps,
    receipts,
    missing,
    p50: median(p50s),
    p99: median(p99s),
    invokeP50: percentile(invokes, 50),
  };
}
