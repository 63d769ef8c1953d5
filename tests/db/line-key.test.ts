// The production path for the line key: a database holding lines from before
// options were limited and hashed, upgraded by `supabase db push`. Lines keep
// their quantities, equal options become equal text, and adds merge into them.
import { beforeAll, expect, it } from "vitest";
import { callRpc } from "../../functions/_shared/rpc.ts";
import { assertInvariants, type Sql, staffClaims } from "../helpers/db.ts";
import { databaseBefore, type OlderDatabase } from "../helpers/migrations.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1, STORE_A } from "../helpers/fixture.ts";

const FIRST_WITH_HASHED_LINES = "20261123214951_limit_cart_input.sql";
let db: OlderDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await databaseBefore(`linekey_${process.pid}`, FIRST_WITH_HASHED_LINES);
  sql = db.sql;
}, 120_000);

it("keys existing lines by their options' hash, stores their numbers canonically, and merges later adds", async () => {
  const [cart] = await sql`
    insert into pos.carts (store_id, location_id, device_id, version, subtotal_cents, item_count)
    values (${STORE_A}, ${LOCATION_A1}, 'legacy-ipad', 1, 0, 0) returning id`;
  await sql`insert into pos.cart_events (cart_id, version, kind) values (${cart.id}, 1, 'created')`;
  // What the old add_item stored: numbers as sent, and options of up to 4 KiB.
  const note = "Ünïcode ☕ ".repeat(200);
  await sql.unsafe(`
    insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents, options) values
      ('${cart.id}', '${PRODUCT_A[0]}', 'Beard Trim', 2, 500, '{"shots": 2.0, "size": "L"}'),
      ('${cart.id}', '${PRODUCT_A[0]}', 'Beard Trim', 1, 500, '{}'),
      ('${cart.id}', '${PRODUCT_A[1]}', 'Hot Towel Shave', 3, 1200, '{"note": "${note}"}')`);
  await sql`update pos.carts set subtotal_cents = 2 * 500 + 500 + 3 * 1200, item_count = 6 where id = ${cart.id}`;

  await db.upgrade();

  const lines = await sql`
    select options::text as options, quantity, options_key = md5(options::text)::uuid as keyed
      from pos.cart_items where cart_id = ${cart.id} order by line_no`;
  expect(lines.map((l) => [l.options, l.quantity, l.keyed])).toEqual([
    ['{"size": "L", "shots": 2}', 2, true],
    ["{}", 1, true],
    [`{"note": "${note}"}`, 3, true],
  ]);

  const add = (options: unknown) =>
    callRpc(
      sql as never,
      "add_item",
      { p_cart_id: cart.id, p_product_id: PRODUCT_A[0], p_options: options },
      staffClaims(STAFF_A1),
    ) as Promise<{ items: Array<{ quantity: number }>; version: number }>;
  const merged = await add({ size: "L", shots: 2 });
  expect(merged.items.map((i) => i.quantity)).toEqual([3, 1, 3]);
  expect((await add({})).items.map((i) => i.quantity)).toEqual([3, 2, 3]);
  await assertInvariants(sql);
});
