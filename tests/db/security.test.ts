// Invariant 8: staff reach only their own store; anon reaches nothing; no client
// writes a table directly.
import { beforeAll, describe, expect, it } from "vitest";
import { expectError, freshDatabase, staffClaims, type TestDatabase } from "../helpers/db.ts";
import {
  CUSTOMER_A,
  CUSTOMER_B1,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  PRODUCT_A,
  PRODUCT_B1,
  STAFF_A1,
  STAFF_B1,
  STORE_A,
  STORE_B,
} from "../helpers/fixture.ts";
import { RPCS } from "../../functions/_shared/rpc.ts";

let db: TestDatabase;
let cart: any;
let lockedCart: any;
let token: string;
let entry: any;
beforeAll(async () => {
  db = await freshDatabase();
  const ann = db.as(STAFF_A1);
  cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[0] });
  cart = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] });
  lockedCart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "sec-locked" });
  await ann.rpc("add_item", { p_cart_id: lockedCart.id, p_product_id: PRODUCT_A[0] });
  token = (await ann.rpc("lock_cart", { p_cart_id: lockedCart.id })).lock.token;
  ({ entry } = await ann.rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[1] }));
});

/** Every client RPC, aimed at store A's rows. */
function callsOnStoreA() {
  const item = cart.items[0].id;
  return {
    get_or_create_cart: { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[0] },
    get_cart: { p_cart_id: cart.id },
    list_open_carts: { p_location_id: LOCATION_A1 },
    get_cart_history: { p_cart_id: cart.id },
    add_item: { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] },
    set_item_quantity: { p_cart_id: cart.id, p_item_id: item, p_quantity: 3 },
    remove_item: { p_cart_id: cart.id, p_item_id: item },
    lock_cart: { p_cart_id: cart.id },
    update_cart_lock: { p_cart_id: lockedCart.id, p_lock_token: token, p_checkout_ref: "x" },
    unlock_cart: { p_cart_id: lockedCart.id, p_lock_token: token },
    complete_checkout: { p_cart_id: lockedCart.id, p_lock_token: token, p_checkout_ref: "x", p_paid_total_cents: 500 },
    add_to_queue: { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[1] },
    get_queue: { p_location_id: LOCATION_A1 },
    call_next: { p_location_id: LOCATION_A1 },
    complete_queue_entry: { p_entry_id: entry.id },
    leave_queue: { p_entry_id: entry.id },
    release_cart_lock: { p_cart_id: lockedCart.id, p_reason: "probe" },
    abandon_cart: { p_cart_id: cart.id, p_reason: "probe" },
    repair_cart_totals: { p_cart_id: cart.id, p_reason: "probe" },
    merge_store_duplicate_carts: { p_store_id: STORE_A, p_reason: "probe" },
    get_store_health: { p_store_id: STORE_A },
    list_store_alerts: { p_store_id: STORE_A },
  } as const;
}

async function storeAState() {
  return await db
    .sql`select id, version, status, subtotal_cents from pos.carts where store_id = ${STORE_A} order by id`;
}

describe("store isolation", () => {
  it("staff of store B get not_found from every RPC aimed at store A, and nothing changes", async () => {
    const before = await storeAState();
    const bea = db.as(STAFF_B1);
    for (const [name, args] of Object.entries(callsOnStoreA())) {
      await expectError(bea.rpc(name as keyof typeof RPCS, args), "not_found");
    }
    expect(await storeAState()).toEqual(before);
    expect((await db.sql`select status from pos.queue_entries where id = ${entry.id}`)[0].status).toBe("waiting");
  });

  it("covers every client RPC of the contract", () => {
    // get_staff_home aims at no store: it answers the caller's own (tested below).
    const ops = [
      "expire_cart_locks",
      "merge_duplicate_carts",
      "add_staff_member",
      "check_alerts",
      "record_refusal",
      "get_staff_home",
    ];
    expect(Object.keys(callsOnStoreA()).sort()).toEqual(Object.keys(RPCS).filter((n) => !ops.includes(n)).sort());
  });

  it("get_staff_home shows a staff member their own store only", async () => {
    const [home] = await db.as(STAFF_B1).rpc("get_staff_home");
    expect(await db.as(STAFF_B1).rpc("get_staff_home")).toHaveLength(1);
    expect(home.id).toBe(STORE_B);
    expect(home.locations.map((l: any) => l.id)).toEqual([LOCATION_B1]);
    expect(home.products.map((p: any) => p.id)).toEqual([PRODUCT_B1]);
    expect(home.customers.map((c: any) => c.id)).toEqual([CUSTOMER_B1]);
    expect(await db.service.rpc("get_staff_home")).toEqual([]);
  });

  it("anon may execute none of them", async () => {
    for (const [name, args] of Object.entries(callsOnStoreA())) {
      const { error } = await expectError(db.anon.rpc(name as keyof typeof RPCS, args), "forbidden");
      expect(error.code).toBe("42501");
    }
  });

  it("a staff member reads only their store's rows, even with direct SQL", async () => {
    const rows = await db.sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true),
                      set_config('request.jwt.claims', ${JSON.stringify(staffClaims(STAFF_B1))}, true)`;
      return await tx`select distinct store_id from pos.carts union select distinct store_id from pos.queue_entries
                      union select store_id from pos.products union select c.store_id from pos.cart_items i
                      join pos.carts c on c.id = i.cart_id`;
    });
    expect(rows).toEqual([{ store_id: STORE_B }]);
  });

  it("no client role may write a table", async () => {
    for (const role of ["anon", "authenticated", "service_role"]) {
      const [{ writable }] = await db.sql`
        select coalesce(bool_or(has_table_privilege(${role}, c.oid, 'insert, update, delete, truncate')), false) as writable
          from pg_class c where c.relnamespace = 'pos'::regnamespace and c.relkind = 'r'`;
      expect(writable, role).toBe(false);
    }
    await expect(db.sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true)`;
      await tx`update pos.carts set subtotal_cents = 0`;
    })).rejects.toMatchObject({ code: "42501" });
  });

  it("grants each public function to exactly the roles the contract names", async () => {
    const rows = await db.sql`
      select p.proname as name,
             has_function_privilege('anon', p.oid, 'execute') as anon,
             has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
             has_function_privilege('service_role', p.oid, 'execute') as service_role,
             p.prosecdef as definer,
             array_to_string(p.proconfig, ',') as config
        from pg_proc p where p.pronamespace = 'public'::regnamespace order by 1`;
    expect(rows.map((r) => r.name).sort()).toEqual(Object.keys(RPCS).sort());
    for (const r of rows) {
      // add_staff_member is for server integrations (npm run staff:add) only.
      const authenticated = r.name !== "add_staff_member";
      expect([r.name, r.anon, r.authenticated, r.service_role]).toEqual([r.name, false, authenticated, true]);
      expect(r.config).toBe('search_path=""');
    }
    const invokers = rows.filter((r) => !r.definer).map((r) => r.name);
    expect(invokers).toEqual(["get_cart", "get_cart_history", "get_queue", "get_staff_home", "list_open_carts"]);
  });

  it("every onecart function pins search_path", async () => {
    const loose = await db.sql`
      select p.oid::regprocedure::text as fn from pg_proc p
       where p.pronamespace in ('pos'::regnamespace, 'public'::regnamespace)
         and not coalesce(p.proconfig @> array['search_path=""'], false)`;
    expect(loose).toEqual([]);
  });
});

describe("idempotency keys", () => {
  it("a replay returns the first response and changes nothing", async () => {
    const ann = db.as(STAFF_A1);
    const c = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "idem-1" });
    const args = { p_cart_id: c.id, p_product_id: PRODUCT_A[1], p_quantity: 2, p_idempotency_key: "k-1" };
    const first = await ann.rpc("add_item", args);
    await ann.rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_A[0] });
    const replay = await ann.rpc("add_item", args);
    expect(replay).toEqual(first);
    const now = await ann.rpc("get_cart", { p_cart_id: c.id });
    expect(now).toMatchObject({ version: 3, item_count: 3 });
  });

  it("the same key with another request answers idempotency_key_reused", async () => {
    const ann = db.as(STAFF_A1);
    const c = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "idem-2" });
    await ann.rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_A[1], p_idempotency_key: "k-2" });
    await expectError(
      ann.rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_A[1], p_quantity: 2, p_idempotency_key: "k-2" }),
      "idempotency_key_reused",
    );
    await expectError(
      ann.rpc("remove_item", { p_cart_id: c.id, p_item_id: c.id, p_idempotency_key: "k-2" }),
      "idempotency_key_reused",
    );
    const other = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "idem-3" });
    await expectError(
      ann.rpc("add_item", { p_cart_id: other.id, p_product_id: PRODUCT_A[1], p_idempotency_key: "k-2" }),
      "idempotency_key_reused",
    );
    expect((await ann.rpc("get_cart", { p_cart_id: c.id })).version).toBe(2);
    expect((await ann.rpc("get_cart", { p_cart_id: other.id })).version).toBe(1);
  });

  it("a key is the store's own: another store may use the same key", async () => {
    const bea = db.as(STAFF_B1);
    const c = await bea.rpc("get_or_create_cart", { p_location_id: LOCATION_B1, p_device_id: "idem-b" });
    const added = await bea.rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_B1, p_idempotency_key: "k-1" });
    expect(added.version).toBe(2);
  });

  it("a failed first attempt stores nothing: the retry runs", async () => {
    const ann = db.as(STAFF_A1);
    const c = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "idem-4" });
    const args = { p_cart_id: c.id, p_product_id: PRODUCT_A[1], p_expected_version: 2, p_idempotency_key: "k-4" };
    await expectError(ann.rpc("add_item", args), "version_conflict");
    await ann.rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_A[0] });
    expect((await ann.rpc("add_item", args)).version).toBe(3);
  });

  it("replays lock_cart's token to its retry, and checkout and queue calls once", async () => {
    const ann = db.as(STAFF_A1);
    const c = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "idem-5" });
    await ann.rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_A[1] });
    const lock = await ann.rpc("lock_cart", { p_cart_id: c.id, p_idempotency_key: "k-5" });
    expect(await ann.rpc("lock_cart", { p_cart_id: c.id, p_idempotency_key: "k-5" })).toEqual(lock);
    const pay = {
      p_cart_id: c.id,
      p_lock_token: lock.lock.token,
      p_checkout_ref: "p",
      p_paid_total_cents: 1200,
      p_idempotency_key: "k-6",
    };
    const done = await ann.rpc("complete_checkout", pay);
    expect(await ann.rpc("complete_checkout", pay)).toEqual(done);

    const waiting = await db.sql`insert into pos.customers (store_id, name)
      select ${STORE_A}, 'Idem ' || n from generate_series(1, 2) n returning id`;
    for (const { id } of waiting) await ann.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: id });
    const next = await ann.rpc("call_next", { p_location_id: LOCATION_A2, p_idempotency_key: "k-7" });
    const retry = await ann.rpc("call_next", { p_location_id: LOCATION_A2, p_idempotency_key: "k-7" });
    expect(retry).toEqual(next);
    const serving = await db.sql`select count(*)::int as n from pos.queue_entries where status = 'serving'`;
    expect(serving[0].n).toBe(1);
  });
});
