// 4. Fan-out: from commit to receipt at 10 subscribed supabase-js devices.
//    "Commit" is the moment the committing client's call returns (its COMMIT was
//    acknowledged); every device's receipt time is taken on the same clock.
import { performance } from "node:perf_hooks";
import { createClient } from "@supabase/supabase-js";
import { type BenchContext, PRODUCTS } from "./context.ts";
import { median, percentile } from "./lib.ts";

export interface FanOut {
  devices: number;
  messages: number;
  /** Medians over rounds of each round's p50 and p99, in ms. */
  p50: number;
  p99: number;
  missing: number;
}

export async function fanOut(ctx: BenchContext, opts: { rounds: number; mutations: number }): Promise<FanOut> {
  const DEVICES = 10;
  const pool = ctx.pool(2);
  const token = await ctx.token();
  const cartId = await ctx.cartWithFiveLines(pool, "bench-fan-out");
  const received = new Map<number, number[]>();
  const clients = Array.from(
    { length: DEVICES },
    () => createClient(ctx.stack.apiUrl, ctx.stack.anonKey, { accessToken: async () => token }),
  );
  await Promise.all(clients.map(async (client) => {
    await client.realtime.setAuth();
    await new Promise<void>((resolve, reject) => {
      client.channel(`cart:${cartId}`, { config: { private: true } })
        .on("broadcast", { event: "cart_updated" }, ({ payload }) => {
          const at = performance.now();
          if (!received.has(payload.version)) received.set(payload.version, []);
          received.get(payload.version)!.push(at);
        })
        .subscribe((status) => (status === "SUBSCRIBED" ? resolve() : status === "CHANNEL_ERROR" && reject()));
    });
  }));

  const p50s: number[] = [];
  const p99s: number[] = [];
  let messages = 0;
  let missing = 0;
  for (let round = 0; round < opts.rounds; round++) {
    const committed = new Map<number, number>();
    for (let i = 0; i < opts.mutations; i++) {
      const cart = await ctx.rpc(pool, "add_item", { p_cart_id: cartId, p_product_id: PRODUCTS[i % 5] });
      committed.set(cart.version, performance.now());
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 500));
    const latencies: number[] = [];
    for (const [version, at] of committed) {
      const receipts = received.get(version) ?? [];
      missing += DEVICES - receipts.length;
      for (const t of receipts) latencies.push(t - at);
    }
    messages += latencies.length;
    latencies.sort((a, b) => a - b);
    p50s.push(percentile(latencies, 50));
    p99s.push(percentile(latencies, 99));
  }
  await Promise.all(clients.map((c) => c.removeAllChannels()));
  return { devices: DEVICES, messages, p50: median(p50s), p99: median(p99s), missing };
}
