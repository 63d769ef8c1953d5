// 2. The race lab: 10 clients adding to one cart through each strategy shops use
//    today, side by side with onecart's RPC. The naive strategies run on a `lab`
//    schema shaped like app-built carts (no unique index on open carts).
import { type BenchContext, LOCATION_A1, PRODUCTS, type Sql, STORE_A } from "./context.ts";
import { countedLoad, type Round, summarize, type Summary } from "./lib.ts";

const CLIENTS = 10;
const PRICE = 500;

export interface Strategy {
  name: string;
  lostUpdates: number;
  duplicateCarts: number;
  add: Summary;
}

/** A promise-chain mutex: serializes callers within one application instance only. */
class Mutex {
  private tail = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }
}

async function readModifyWrite(sql: Sql, cartId: string, product: string) {
  const [line] = await sql`select quantity from lab.cart_items where cart_id = ${cartId} and product_id = ${product}`;
  await sql`insert into lab.cart_items (cart_id, product_id, quantity, unit_price_cents)
            values (${cartId}, ${product}, ${(line?.quantity ?? 0) + 1}, ${PRICE})
            on conflict (cart_id, product_id) do update set quantity = excluded.quantity`;
  const [cart] = await sql`select version, item_count, subtotal_cents from lab.carts where id = ${cartId}`;
  await sql`update lab.carts set version = ${cart.version + 1}, item_count = ${cart.item_count + 1},
            subtotal_cents = ${Number(cart.subtotal_cents) + PRICE} where id = ${cartId}`;
}

async function optimistic(sql: Sql, cartId: string, product: string): Promise<void> {
  for (;;) {
    const applied = await sql.begin(async (tx) => {
      const [cart] = await tx`select version, item_count, subtotal_cents from lab.carts where id = ${cartId}`;
      const [line] =
        await tx`select quantity from lab.cart_items where cart_id = ${cartId} and product_id = ${product}`;
      const bumped = await tx`update lab.carts set version = ${cart.version + 1}, item_count = ${cart.item_count + 1},
                               subtotal_cents = ${Number(cart.subtotal_cents) + PRICE}
                               where id = ${cartId} and version = ${cart.version}`;
      if (bumped.count === 0) return false;
      await tx`insert into lab.cart_items (cart_id, product_id, quantity, unit_price_cents)
               values (${cartId}, ${product}, ${(line?.quantity ?? 0) + 1}, ${PRICE})
               on conflict (cart_id, product_id) do update set quantity = excluded.quantity`;
      return true;
    });
    if (applied) return;
  }
}

/**
 * Acknowledged adds that left no trace: every add must add its quantity to a
 * line, one to the cart's item count, and one to its version. Whichever of the
 * three lost most tells how many writes were overwritten.
 */
function lostOf(acknowledged: number, seen: { bumps: number; counted: number; quantity: number }): number {
  return Math.max(0, ...[seen.bumps, seen.counted, seen.quantity].map((n) => acknowledged - Number(n)));
}

async function labGetOrCreate(sql: Sql, customer: string): Promise<void> {
  const [cart] = await sql`select id from lab.carts where customer_id = ${customer} and status = 'active'`;
  if (!cart) await sql`insert into lab.carts (customer_id, location_id) values (${customer}, ${LOCATION_A1})`;
}

export async function raceLab(ctx: BenchContext, opts: { rounds: number; opsPerRound: number }): Promise<Strategy[]> {
  const admin = ctx.pool(1);
  await admin`create schema if not exists lab`;
  await admin`create table if not exists lab.carts (id uuid primary key default gen_random_uuid(), customer_id uuid,
    location_id uuid, status text not null default 'active', version int not null default 1,
    item_count int not null default 0, subtotal_cents bigint not null default 0)`;
  await admin`create table if not exists lab.cart_items (cart_id uuid, product_id uuid, quantity int not null,
    unit_price_cents bigint not null, primary key (cart_id, product_id))`;
  const pool = ctx.pool(CLIENTS);
  const instances = [new Mutex(), new Mutex()];

  type Lab = {
    add(client: number, cartId: string, product: string): Promise<unknown>;
    getOrCreate(client: number, customer: string): Promise<unknown>;
  };
  const naive = (wrap: (client: number, fn: () => Promise<unknown>) => Promise<unknown>): Lab => ({
    add: (c, cart, product) => wrap(c, () => readModifyWrite(pool, cart, product)),
    getOrCreate: (c, customer) => wrap(c, () => labGetOrCreate(pool, customer)),
  });
  const labs: Array<[string, Lab | null]> = [
    ["read-modify-write in app code", naive((_, fn) => fn())],
    ["in-process mutex, 2 app instances", naive((c, fn) => instances[c % 2].run(fn))],
    ["optimistic version check + retry", {
      add: (_, cart, product) => optimistic(pool, cart, product),
      getOrCreate: (_, customer) => labGetOrCreate(pool, customer),
    }],
    ["onecart RPC", null],
  ];

  const results: Strategy[] = [];
  for (const [name, lab] of labs) {
    const roundsOut: Round[] = [];
    let lost = 0;
    let duplicates = 0;
    for (let round = 0; round < opts.rounds; round++) {
      const customers = await admin`insert into pos.customers (store_id, name)
        values (${STORE_A}, 'race lab') returning id`;
      const customer = customers[0].id as string;
      if (lab) {
        const [cart] = await admin`insert into lab.carts (location_id) values (${LOCATION_A1}) returning id`;
        roundsOut.push(await countedLoad(CLIENTS, opts.opsPerRound, (c, i) => lab.add(c, cart.id, PRODUCTS[i % 5])));
        const [after] = await admin<
          { bumps: number; counted: number; quantity: number }[]
        >`select c.version - 1 as bumps, c.item_count as counted,
            (select coalesce(sum(quantity), 0)::int from lab.cart_items where cart_id = c.id) as quantity
          from lab.carts c where c.id = ${cart.id}`;
        lost += lostOf(opts.opsPerRound, after);
        await Promise.all(Array.from({ length: CLIENTS }, (_, c) => lab.getOrCreate(c, customer)));
        const [{ n }] = await admin`select count(*)::int as n from lab.carts where customer_id = ${customer}`;
        duplicates += n - 1;
      } else {
        const cartId = await ctx.cartWithFiveLines(pool, `race-lab-${round}-${Date.now()}`);
        const before = await ctx.rpc(pool, "get_cart", { p_cart_id: cartId });
        roundsOut.push(
          await countedLoad(
            CLIENTS,
            opts.opsPerRound,
            (_, i) => ctx.rpc(pool, "add_item", { p_cart_id: cartId, p_product_id: PRODUCTS[i % 5] }),
          ),
        );
        const after = await ctx.rpc(pool, "get_cart", { p_cart_id: cartId });
        const quantity = after.items.reduce((n: number, i: { quantity: number }) => n + i.quantity, 0) -
          before.items.reduce((n: number, i: { quantity: number }) => n + i.quantity, 0);
        lost += lostOf(opts.opsPerRound, {
          bumps: after.version - before.version,
          counted: after.item_count - before.item_count,
          quantity,
        });
        await Promise.all(
          Array.from(
            { length: CLIENTS },
            () => ctx.rpc(pool, "get_or_create_cart", { p_location_id: LOCATION_A1, p_customer_id: customer }),
          ),
        );
        const [{ n }] = await admin`select count(*)::int as n from pos.carts where customer_id = ${customer}`;
        duplicates += n - 1;
      }
    }
    results.push({ name, lostUpdates: lost, duplicateCarts: duplicates, add: summarize(roundsOut) });
  }
  return results;
}
