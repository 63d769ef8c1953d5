// 1. Hot cart: add_item on carts of 5 lines (all clients on one cart, or one cart
//    each), against the limit for that work, a single-row `update … set n = n + 1`
//    on the same server, same concurrency, same transaction shape; and against
//    the floor of what the contract asks of one add, the same writes made by a
//    function that does nothing else.
// 3. The function path: the same load through the edge function over HTTP with
//    keep-alive, against the direct RPC.
import { literal } from "../functions/_shared/rpc.ts";
import { type BenchContext, PRODUCTS, STAFF, staffClaims } from "./context.ts";
import { type Round, rounds, summarize, type Summary, timedLoad } from "./lib.ts";

export interface HotCartRow {
  clients: number;
  /** 1: every client on the same cart (its row lock serializes them); n: one cart per client. */
  carts: number;
  /** "on": every commit waits for its WAL flush, as on Supabase; "off": it does not. */
  synchronousCommit: "on" | "off";
  rpc: Summary;
  raw: Summary;
  /** bench.contract_writes: the writes the contract requires of one add, and nothing else. */
  floor: Summary;
  ratio: number;
  /** floor / raw: the most any add_item keeping the contract could reach here. */
  floorRatio: number;
}

/**
 * The writes the contract asks of one add and nothing else: the cart's row lock,
 * the line, the version and totals with their event in one statement, and a
 * broadcast row through realtime.send. No access check, no validation, no
 * snapshot (the payload is the cart's id and version), no idempotency. A scratch
 * function of the benchmark, owned by the superuser: about the most any add_item
 * keeping invariants 2, 3 and 4 and the broadcast in the transaction can reach
 * (taking the lock in the version bump instead would save one statement of five).
 */
const CONTRACT_WRITES = `
create or replace function bench.contract_writes(p_cart_id uuid, p_product_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payload jsonb;
begin
  perform 1 from pos.carts c where c.id = p_cart_id for update;
  update pos.cart_items i set quantity = i.quantity + 1
   where i.cart_id = p_cart_id and i.product_id = p_product_id and i.options = '{}';
  with bumped as (
    update pos.carts c
       set version = c.version + 1, updated_at = now(),
           item_count = c.item_count + 1,
           subtotal_cents = c.subtotal_cents + (select p.price_cents from pos.products p where p.id = p_product_id)
     where c.id = p_cart_id
    returning c.id, c.version
  ), event as (
    insert into pos.cart_events (cart_id, version, kind, actor_id, data)
    select b.id, b.version, 'item_added', auth.uid(), '{}' from bumped b
  )
  select jsonb_build_object('id', b.id, 'version', b.version) into v_payload from bumped b;
  perform realtime.send(v_payload, 'cart_updated', 'cart:' || p_cart_id::text, true);
  return v_payload;
end;
$$;
revoke execute on function bench.contract_writes(uuid, uuid) from public;
grant execute on function bench.contract_writes(uuid, uuid) to authenticated;`;

/**
 * add_item against a single-row `update … set n = n + 1` in the same transaction
 * shape (role and claims set, then the statement), rounds interleaved (add, raw,
 * add, raw …) so that any other load on the host falls on both alike.
 */
export async function hotCart(
  ctx: BenchContext,
  opts: {
    seconds: number;
    rounds: number;
    synchronousCommit: "on" | "off";
    shapes?: Array<{ clients: number; carts: number }>;
  },
): Promise<HotCartRow[]> {
  const admin = ctx.pool(1, ctx.stack.adminDbUrl);
  await admin`create schema if not exists bench`;
  await admin`create table if not exists bench.counter (id int primary key, n bigint not null)`;
  await admin`insert into bench.counter select g, 0 from generate_series(1, 100) g on conflict (id) do update set n = 0`;
  // The raw update runs as the RPC does: as `authenticated`, in the same transaction shape.
  await admin`grant usage on schema bench to authenticated`;
  await admin`grant select, update on bench.counter to authenticated`;
  await admin.unsafe(CONTRACT_WRITES);
  const claims = JSON.stringify(staffClaims(STAFF[0]));
  const rows: HotCartRow[] = [];
  const shapes = opts.shapes ??
    [{ clients: 1, carts: 1 }, { clients: 10, carts: 1 }, { clients: 10, carts: 10 }, { clients: 50, carts: 1 }];
  for (const { clients, carts } of shapes) {
    const pool = ctx.pool(clients, undefined, { synchronous_commit: opts.synchronousCommit });
    const cartIds: string[] = [];
    // The floor's carts are its own: it grows lines past add_item's limit of 9,999 units, which it does not check.
    const floorCartIds: string[] = [];
    for (let c = 0; c < carts; c++) {
      cartIds.push(await ctx.cartWithFiveLines(pool, `bench-hot-${clients}-${carts}-${c}-${opts.synchronousCommit}`));
      floorCartIds.push(
        await ctx.cartWithFiveLines(pool, `bench-floor-${clients}-${carts}-${c}-${opts.synchronousCommit}`),
      );
    }
    const rpcRounds: Round[] = [];
    const rawRounds: Round[] = [];
    const floorRounds: Round[] = [];
    const asStaff = `select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${
      literal("text", claims)
    }, true);\n`;
    for (let round = 0; round < opts.rounds; round++) {
      rpcRounds.push(
        await timedLoad(
          clients,
          opts.seconds * 1000,
          (c) => ctx.rpc(pool, "add_item", { p_cart_id: cartIds[c % carts], p_product_id: PRODUCTS[c % 5] }),
        ),
      );
      rawRounds.push(
        await timedLoad(
          clients,
          opts.seconds * 1000,
          (c) => pool.unsafe(`${asStaff}update bench.counter set n = n + 1 where id = ${1 + (c % carts)}`).simple(),
        ),
      );
      floorRounds.push(
        await timedLoad(clients, opts.seconds * 1000, (c) =>
          pool.unsafe(
            `${asStaff}select bench.contract_writes(${literal("uuid", floorCartIds[c % carts])}, ${
              literal("uuid", PRODUCTS[c % 5])
            })`,
          ).simple()),
      );
    }
    const rpc = summarize(rpcRounds);
    const raw = summarize(rawRounds);
    const floor = summarize(floorRounds);
    rows.push({
      clients,
      carts,
      synchronousCommit: opts.synchronousCommit,
      rpc,
      raw,
      floor,
      ratio: rpc.throughput / raw.throughput,
      floorRatio: floor.throughput / raw.throughput,
    });
  }
  return rows;
}

export interface FunctionPath {
  clients: number;
  http: Summary;
  direct: Summary;
  ratio: number;
}

export async function functionPath(
  ctx: BenchContext,
  opts: { seconds: number; rounds: number },
): Promise<FunctionPath> {
  const clients = 10;
  const pool = ctx.pool(clients);
  const token = await ctx.token();
  const httpCart = await ctx.cartWithFiveLines(pool, "bench-http");
  const directCart = await ctx.cartWithFiveLines(pool, "bench-direct");
  const url = `${ctx.stack.apiUrl}/functions/v1/carts/${httpCart}/items`;
  const http = await rounds(opts.rounds, () =>
    timedLoad(clients, opts.seconds * 1000, async (c) => {
      const res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ product_id: PRODUCTS[c % 5] }),
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }));
  const direct = await rounds(
    opts.rounds,
    () =>
      timedLoad(
        clients,
        opts.seconds * 1000,
        (c) => ctx.rpc(pool, "add_item", { p_cart_id: directCart, p_product_id: PRODUCTS[c % 5] }),
      ),
  );
  return { clients, http, direct, ratio: http.throughput / direct.throughput };
}
