// 1. Hot cart: add_item on one cart of 5 lines, against the limit for that work,
//    a single-row `update … set n = n + 1` on the same server, same concurrency.
// 3. The function path: the same load through the edge function over HTTP with
//    keep-alive, against the direct RPC.
import { type BenchContext, PRODUCTS } from "./context.ts";
import { rounds, type Summary, timedLoad } from "./lib.ts";

export interface HotCartRow {
  clients: number;
  /** "on": every commit waits for its WAL flush, as on Supabase; "off": it does not. */
  synchronousCommit: "on" | "off";
  rpc: Summary;
  raw: Summary;
  ratio: number;
}

export async function hotCart(
  ctx: BenchContext,
  opts: { seconds: number; rounds: number; synchronousCommit: "on" | "off"; clients?: number[] },
): Promise<HotCartRow[]> {
  const admin = ctx.pool(1);
  await admin`create schema if not exists bench`;
  await admin`create table if not exists bench.counter (id int primary key, n bigint not null)`;
  await admin`insert into bench.counter values (1, 0) on conflict (id) do update set n = 0`;
  const rows: HotCartRow[] = [];
  for (const clients of opts.clients ?? [1, 10, 50]) {
    const pool = ctx.pool(clients, undefined, { synchronous_commit: opts.synchronousCommit });
    const cartId = await ctx.cartWithFiveLines(pool, `bench-hot-${clients}-${opts.synchronousCommit}`);
    const rpc = await rounds(opts.rounds, () => timedLoad(clients, opts.seconds * 1000, (c) =>
      ctx.rpc(pool, "add_item", { p_cart_id: cartId, p_product_id: PRODUCTS[c % 5] })));
    const raw = await rounds(opts.rounds, () => timedLoad(clients, opts.seconds * 1000, () =>
      pool`update bench.counter set n = n + 1 where id = 1`));
    rows.push({ clients, synchronousCommit: opts.synchronousCommit, rpc, raw, ratio: rpc.throughput / raw.throughput });
  }
  return rows;
}

export interface FunctionPath {
  clients: number;
  http: Summary;
  direct: Summary;
  ratio: number;
}

export async function functionPath(ctx: BenchContext, opts: { seconds: number; rounds: number }): Promise<FunctionPath> {
  const clients = 10;
  const pool = ctx.pool(clients);
  const token = await ctx.token();
  const httpCart = await ctx.cartWithFiveLines(pool, "bench-http");
  const directCart = await ctx.cartWithFiveLines(pool, "bench-direct");
  const url = `${ctx.stack.apiUrl}/functions/v1/carts/${httpCart}/items`;
  const http = await rounds(opts.rounds, () => timedLoad(clients, opts.seconds * 1000, async (c) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ product_id: PRODUCTS[c % 5] }),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }));
  const direct = await rounds(opts.rounds, () => timedLoad(clients, opts.seconds * 1000, (c) =>
    ctx.rpc(pool, "add_item", { p_cart_id: directCart, p_product_id: PRODUCTS[c % 5] })));
  return { clients, http, direct, ratio: http.throughput / direct.throughput };
}
