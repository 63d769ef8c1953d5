// The production path: a database built before the unique indexes existed, full
// of duplicate open carts (production held 263), upgraded by `supabase db push`.
import { beforeAll, expect, it } from "vitest";
import { callRpc } from "../../functions/_shared/rpc.ts";
import { fromPostgresError } from "../../functions/_shared/errors.ts";
import { assertInvariants, type Sql } from "../helpers/db.ts";
import { databaseBefore, type OlderDatabase } from "../helpers/migrations.ts";
import { LOCATION_A1, LOCATION_A2, PRODUCT_A, STORE_A } from "../helpers/fixture.ts";

const FIRST_WITH_INDEXES = "20261123120200_add_open_cart_unique_indexes.sql";
let db: OlderDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await databaseBefore(`legacy_${process.pid}`, FIRST_WITH_INDEXES);
  sql = db.sql;
});

it("folds 263 duplicate open carts into the oldest, keeps every quantity, repoints the queue, then indexes", async () => {
  // 120 customers with 3 open carts at one location and 23 devices with 2: 263 duplicates.
  await sql`insert into pos.customers (id, store_id, name)
    select ('cc000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, ${STORE_A}, 'Legacy ' || n
      from generate_series(1, 120) n`;
  // What the old app code wrote: several open carts per customer, each with lines.
  await sql`
    insert into pos.carts (id, store_id, location_id, customer_id, device_id, created_at)
    select gen_random_uuid(), ${STORE_A}, case when n % 2 = 0 then ${LOCATION_A1}::uuid else ${LOCATION_A2}::uuid end,
           ('cc000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'ipad-' || k,
           now() - interval '1 day' + k * interval '1 minute'
      from generate_series(1, 120) n, generate_series(1, 3) k`;
  await sql`
    insert into pos.carts (store_id, location_id, device_id, created_at)
    select ${STORE_A}, ${LOCATION_A1}, 'legacy-mac-' || n, now() - interval '2 days' + k * interval '1 minute'
      from generate_series(1, 23) n, generate_series(1, 2) k`;
  await sql`
    insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents)
    select c.id, p.id, p.name, 1 + (abs(hashtext(c.id::text || p.id::text)) % 4), p.price_cents
      from pos.carts c
      join pos.products p on p.id = any(${[PRODUCT_A[0], PRODUCT_A[1], PRODUCT_A[2]]}::uuid[])
     where abs(hashtext(c.id::text || p.id::text)) % 3 <> 0`;
  await sql`update pos.carts c set
      subtotal_cents = (select coalesce(sum(quantity * unit_price_cents), 0) from pos.cart_items where cart_id = c.id),
      item_count = (select coalesce(sum(quantity), 0) from pos.cart_items where cart_id = c.id)`;
  await sql`insert into pos.cart_events (cart_id, version, kind) select id, 1, 'created' from pos.carts`;
  // Queue entries that point at the newest duplicate, not the cart that survives.
  await sql`
    insert into pos.queue_entries (store_id, location_id, customer_id, cart_id, ticket_number)
    select distinct on (c.customer_id) c.store_id, c.location_id, c.customer_id, c.id,
           row_number() over (order by c.customer_id)
      from pos.carts c where c.customer_id::text like 'cc000000%'
     order by c.customer_id, c.created_at desc`;

  // ops.duplicate_open_carts comes with a later migration; the same count by hand.
  const [{ duplicates }] = await sql`
    select (count(*) - count(distinct (location_id, coalesce(customer_id::text, device_id))))::int as duplicates
      from pos.carts where status in ('active', 'locked')`;
  expect(duplicates).toBe(263);
  const before = await sql`
    select c.location_id, coalesce(c.customer_id::text, c.device_id) as owner, i.product_id,
           sum(i.quantity)::int as quantity
      from pos.carts c join pos.cart_items i on i.cart_id = c.id
     group by 1, 2, 3 order by 1, 2, 3`;
  const oldest = await sql`
    select distinct on (location_id, coalesce(customer_id::text, device_id)) id,
           location_id, coalesce(customer_id::text, device_id) as owner
      from pos.carts order by location_id, coalesce(customer_id::text, device_id), created_at`;

  await db.upgrade();

  const indexes =
    await sql`select indexname from pg_indexes where schemaname = 'pos' and indexname like 'carts_one_open%'`;
  expect(indexes.map((i) => i.indexname).sort()).toEqual([
    "carts_one_open_per_customer_idx",
    "carts_one_open_per_device_idx",
  ]);
  expect(await sql`select * from ops.duplicate_open_carts`).toEqual([]);

  // Every quantity survives, in the oldest cart of each group.
  const after = await sql`
    select c.location_id, coalesce(c.customer_id::text, c.device_id) as owner, i.product_id,
           sum(i.quantity)::int as quantity
      from pos.carts c join pos.cart_items i on i.cart_id = c.id
     where c.status in ('active', 'locked')
     group by 1, 2, 3 order by 1, 2, 3`;
  expect(after).toEqual(before);
  const survivors = await sql`select id from pos.carts where status in ('active', 'locked') order by id`;
  expect(survivors.map((s) => s.id)).toEqual(oldest.map((o) => o.id).sort());

  const merged = await sql`select m.merged_into, s.status from pos.carts m join pos.carts s on s.id = m.merged_into
                             where m.status = 'merged'`;
  expect(merged.length).toBe(263);
  expect(merged.every((m) => m.status === "active")).toBe(true);
  const offCart = await sql`select * from ops.queue_entries_off_cart`;
  expect(offCart).toEqual([]);
  const [{ n: queued }] = await sql`select count(*)::int as n from pos.queue_entries e
    join pos.carts c on c.id = e.cart_id where c.status = 'active'`;
  expect(queued).toBe(120);
  await assertInvariants(sql);
});

it("answers cart_closed with merged_into for a folded cart, and merging again finds nothing", async () => {
  const [folded] = await sql`select id, merged_into from pos.carts where status = 'merged' limit 1`;
  const error = await callRpc(sql as never, "add_item", { p_cart_id: folded.id, p_product_id: PRODUCT_A[0] }, {
    role: "service_role",
  }).catch((e) => e);
  expect(fromPostgresError(error)?.toBody().error).toMatchObject({
    code: "cart_closed",
    details: { merged_into: folded.merged_into },
  });
  expect(await callRpc(sql as never, "merge_duplicate_carts", {}, { role: "service_role" })).toBe(0);
  const history = await callRpc(sql as never, "get_cart_history", { p_cart_id: folded.merged_into }, {
    role: "service_role",
  }) as Array<{ kind: string; data: { merged_from?: string } }>;
  expect(history.filter((e) => e.kind === "merged").map((e) => e.data.merged_from)).toContain(folded.id);
});
