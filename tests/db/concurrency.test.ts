// Invariants 1, 2, 6 and 7 under real concurrency: many connections at once,
// Promise.allSettled, then the invariants. With ONECART_RACY=1 the file runs
// against tests/racy/naive.sql, the read-modify-write variant, and must fail.
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { assertInvariants, type Caller, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { CUSTOMER_A, LOCATION_A1, LOCATION_A2, PRODUCT_A, STAFF_A1, STAFF_A2, STORE_A } from "../helpers/fixture.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
  if (process.env.ONECART_RACY === "1") {
    await db.sql.unsafe(await readFile(new URL("../racy/naive.sql", import.meta.url), "utf8"));
  }
});

/** Runs all calls at once and insists every one succeeded. */
async function allAtOnce<T>(calls: Array<() => Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(calls.map((call) => call()));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  expect(failed.map((f) => String(f.reason?.message ?? f.reason))).toEqual([]);
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * Two staff members, alternating, on a pool of `size` connections that are all
 * open before the burst, so the calls really start together rather than
 * staggered by connection setup.
 */
async function staffOn(size: number): Promise<(i: number) => Caller> {
  const pool = db.pool(size);
  await Promise.all(Array.from({ length: size }, () => pool`select pg_sleep(0.05)`));
  const callers = [db.as(STAFF_A1).on(pool), db.as(STAFF_A2).on(pool)];
  return (i) => callers[i % 2];
}

describe("concurrency", () => {
  it("50 concurrent add_item on one cart from 50 connections: nothing lost, version up by exactly 50", async () => {
    const staff = await staffOn(50);
    const cart = await staff(0).rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "hot-cart" });
    const expected = new Map<string, number>();
    const calls = Array.from({ length: 50 }, (_, i) => {
      const product = PRODUCT_A[i % 5];
      const quantity = (i % 3) + 1;
      expected.set(product, (expected.get(product) ?? 0) + quantity);
      return () => staff(i).rpc("add_item", { p_cart_id: cart.id, p_product_id: product, p_quantity: quantity });
    });
    const responses = await allAtOnce(calls);

    const final = await staff(0).rpc("get_cart", { p_cart_id: cart.id });
    expect(final.version).toBe(cart.version + 50);
    expect(new Map(final.items.map((i: any) => [i.product_id, i.quantity]))).toEqual(expected);
    expect(final.item_count).toBe([...expected.values()].reduce((a, b) => a + b, 0));
    // Each acknowledged call saw its own version: 2..51, each once.
    expect(responses.map((r: any) => r.version).sort((a, b) => a - b))
      .toEqual(Array.from({ length: 50 }, (_, i) => cart.version + 1 + i));
    const history = await staff(0).rpc("get_cart_history", { p_cart_id: cart.id });
    expect(history.map((e: any) => e.version)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    await assertInvariants(db.sql);
  });

  it("100 concurrent get_or_create_cart for one customer and location: one cart, every caller gets it", async () => {
    const staff = await staffOn(100);
    const carts = await allAtOnce(
      Array.from(
        { length: 100 },
        (_, i) => () =>
          staff(i).rpc("get_or_create_cart", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[0] }),
      ),
    );
    expect(new Set(carts.map((c: any) => c.id)).size).toBe(1);
    const [{ count }] = await db.sql`select count(*)::int from pos.carts
      where customer_id = ${CUSTOMER_A[0]} and location_id = ${LOCATION_A2} and status in ('active', 'locked')`;
    expect(count).toBe(1);
    await assertInvariants(db.sql);
  });

  it("100 concurrent get_or_create_cart for one device and location: one cart, every caller gets it", async () => {
    const staff = await staffOn(100);
    const carts = await allAtOnce(
      Array.from(
        { length: 100 },
        (_, i) => () => staff(i).rpc("get_or_create_cart", { p_location_id: LOCATION_A2, p_device_id: "ipad-race" }),
      ),
    );
    expect(new Set(carts.map((c: any) => c.id)).size).toBe(1);
    const [{ count }] = await db.sql`select count(*)::int from pos.carts
      where device_id = 'ipad-race' and customer_id is null and status in ('active', 'locked')`;
    expect(count).toBe(1);
  });

  it("20 concurrent add_to_queue for one customer: one entry and one cart", async () => {
    const staff = await staffOn(20);
    const joined = await allAtOnce(
      Array.from(
        { length: 20 },
        (_, i) => () => staff(i).rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[1] }),
      ),
    );
    expect(new Set(joined.map((j: any) => j.entry.id)).size).toBe(1);
    expect(new Set(joined.map((j: any) => j.cart.id)).size).toBe(1);
    const entries = await db.sql`select cart_id from pos.queue_entries
      where customer_id = ${CUSTOMER_A[1]} and location_id = ${LOCATION_A1}`;
    expect(entries.length).toBe(1);
    await assertInvariants(db.sql);
  });

  it("10 waiting customers and 10 concurrent call_next: 10 distinct entries", async () => {
    const customers = await db.sql`insert into pos.customers (store_id, name)
      select ${STORE_A}, 'Walk-in ' || n from generate_series(1, 10) n returning id`;
    const ann = db.as(STAFF_A1);
    for (const { id } of customers) {
      await ann.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: id });
    }
    const staff = await staffOn(10);
    const called = await allAtOnce(
      Array.from({ length: 10 }, (_, i) => () => staff(i).rpc("call_next", { p_location_id: LOCATION_A2 })),
    );
    expect(called.every((e: any) => e?.status === "serving")).toBe(true);
    expect(new Set(called.map((e: any) => e.id)).size).toBe(10);
    expect(await ann.rpc("call_next", { p_location_id: LOCATION_A2 })).toBeNull();
  });

  it("10 concurrent add_item with one idempotency key apply once and all answer the first response", async () => {
    const staff = await staffOn(10);
    const cart = await staff(0).rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "retry-storm" });
    const responses = await allAtOnce(Array.from({ length: 10 }, (_, i) => () =>
      staff(i).rpc("add_item", {
        p_cart_id: cart.id,
        p_product_id: PRODUCT_A[3],
        p_quantity: 2,
        p_idempotency_key: "tap-once",
      })));
    for (const r of responses) expect(r).toEqual(responses[0]);
    const final = await staff(0).rpc("get_cart", { p_cart_id: cart.id });
    expect(final).toMatchObject({ version: 2, item_count: 2 });
  });
});
