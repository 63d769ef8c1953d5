// 5. Growth: get_or_create_cart, add_item and call_next with 10,000 open carts
//    across 100 locations and 1,000 waiting queue entries, against the same calls
//    on a database holding only what the calls need.
import { projectUrl } from "../scripts/lib/postgres.ts";
import { buildDatabase, createDatabase, dropDatabase } from "../scripts/lib/database.ts";
import { type BenchContext, PRODUCTS, type Sql, STORE_A } from "./context.ts";
import { countedLoad, type Round, summarize, type Summary } from "./lib.ts";

const LOCATIONS = 100;
const CALLS = 100;

export interface GrowthRow {
  call: string;
  empty: Summary;
  grown: Summary;
  /** grown p50 / empty p50 */
  ratio: number;
}

/** 100 locations of store A, each with `waiting` customers in its queue (through the RPC). */
async function prepare(ctx: BenchContext, sql: Sql, pool: Sql, waitingPerLocation: number) {
  await sql`insert into pos.locations (id, store_id, name)
    select ('1c000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, ${STORE_A}, 'Growth ' || n
      from generate_series(1, ${LOCATIONS}) n`;
  const locations = (await sql`select id from pos.locations where name like 'Growth %' order by name`)
    .map((r) => r.id as string);
  const customers = await sql`insert into pos.customers (store_id, name)
    select ${STORE_A}, 'Queue ' || n from generate_series(1, ${LOCATIONS * waitingPerLocation}) n returning id`;
  for (let i = 0; i < customers.length; i++) {
    await ctx.rpc(pool, "add_to_queue", { p_location_id: locations[i % LOCATIONS], p_customer_id: customers[i].id });
  }
  return locations;
}

/** 10,000 open carts (100 per location) with two lines each, written the way the RPCs leave them. */
async function grow(sql: Sql) {
  await sql`insert into pos.customers (id, store_id, name)
    select ('c0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, ${STORE_A}, 'Regular ' || n
      from generate_series(1, 10000) n`;
  await sql`insert into pos.carts (store_id, location_id, customer_id, version, subtotal_cents, item_count)
    select ${STORE_A}, ('1c000000-0000-4000-8000-' || lpad((1 + n % ${LOCATIONS})::text, 12, '0'))::uuid,
           ('c0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 3, 3000, 2
      from generate_series(1, 10000) n`;
  await sql`insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents)
    select c.id, p.id, p.name, 1, p.price_cents from pos.carts c
      join pos.products p on p.id = any(${[PRODUCTS[0], PRODUCTS[2]]}::uuid[])
     where c.customer_id::text like 'c0000000%'`;
  await sql`insert into pos.cart_events (cart_id, version, kind)
    select c.id, v, case v when 1 then 'created' else 'item_added' end
      from pos.carts c, generate_series(1, 3) v where c.customer_id::text like 'c0000000%'`;
}

/**
 * Both databases are measured settled: vacuumed and analyzed (hint bits and the
 * visibility map set, statistics current), and with the local Realtime's
 * walsender done decoding what was written, or the grown side would be
 * measured against its own bulk load.
 */
async function settle(sql: Sql) {
  await sql`vacuum analyze`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const [{ behind }] = await sql`select coalesce(bool_or(sent_lsn < pg_current_wal_lsn()), false) as behind
                                     from pg_stat_replication`;
    if (!behind) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function measure(ctx: BenchContext, pool: Sql, locations: string[], opts: { rounds: number }) {
  const rounds = { get_or_create_cart: [] as Round[], add_item: [] as Round[], call_next: [] as Round[] };
  for (let round = 0; round < opts.rounds; round++) {
    const customers = await pool`insert into pos.customers (store_id, name)
      select ${STORE_A}, 'Walk-in ' || n from generate_series(1, ${CALLS}) n returning id`;
    const carts: string[] = [];
    rounds.get_or_create_cart.push(
      await countedLoad(1, CALLS, async (_, i) => {
        const cart = await ctx.rpc(pool, "get_or_create_cart", {
          p_location_id: locations[i % LOCATIONS],
          p_customer_id: customers[i].id,
        });
        carts.push(cart.id);
      }),
    );
    rounds.add_item.push(
      await countedLoad(
        1,
        CALLS,
        (_, i) => ctx.rpc(pool, "add_item", { p_cart_id: carts[i], p_product_id: PRODUCTS[i % 5] }),
      ),
    );
    rounds.call_next.push(
      await countedLoad(1, CALLS, (_, i) => ctx.rpc(pool, "call_next", { p_location_id: locations[i % LOCATIONS] })),
    );
  }
  return rounds;
}

export async function growth(ctx: BenchContext, adminUrl: string, opts: { rounds: number }): Promise<GrowthRow[]> {
  const results: Record<string, Record<string, Round[]>> = {};
  for (const kind of ["empty", "grown"] as const) {
    const name = `bench_growth_${kind}`;
    await dropDatabase(adminUrl, name);
    const admin = await createDatabase(adminUrl, name);
    await buildDatabase(admin);
    const url = projectUrl(admin);
    const sql = ctx.pool(1, url);
    const pool = ctx.pool(1, url);
    // Both have the 100 locations and enough waiting customers for the call_next rounds.
    const locations = await prepare(ctx, sql, pool, kind === "grown" ? 10 : opts.rounds);
    if (kind === "grown") await grow(sql);
    await settle(sql);
    // Warm both alike before measuring.
    await ctx.rpc(pool, "get_queue", { p_location_id: locations[0] });
    results[kind] = await measure(ctx, pool, locations, opts);
  }
  return ["get_or_create_cart", "add_item", "call_next"].map((call) => {
    const empty = summarize(results.empty[call]);
    const grown = summarize(results.grown[call]);
    return { call, empty, grown, ratio: grown.p50 / empty.p50 };
  });
}
