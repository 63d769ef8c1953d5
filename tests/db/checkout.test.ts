import { beforeAll, describe, expect, it } from "vitest";
import { assertInvariants, expectError, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { CUSTOMER_A, LOCATION_A1, MISSING, PRODUCT_A, STAFF_A1, STAFF_A2 } from "../helpers/fixture.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});

let deviceSeq = 0;
async function cartWithItems(quantity = 2) {
  const ann = db.as(STAFF_A1);
  const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: `co-${++deviceSeq}` });
  return await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[2], p_quantity: quantity });
}

/** Moves a lock's expiry into the past, as if its time had run out. */
async function expireLock(cartId: string) {
  await db.sql`update pos.carts set lock_expires_at = now() - interval '1 second' where id = ${cartId}`;
}

async function kinds(cartId: string): Promise<string[]> {
  return (await db.as(STAFF_A1).rpc("get_cart_history", { p_cart_id: cartId })).map((e: any) => e.kind);
}

describe("lock_cart", () => {
  it("refuses an empty cart", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "co-empty" });
    await expectError(ann.rpc("lock_cart", { p_cart_id: cart.id }), "cart_empty");
  });

  it("locks with a token only its caller sees; every content change answers cart_locked", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await cartWithItems();
    const locked = await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-1", p_ttl_seconds: 120 });
    expect(locked).toMatchObject({
      status: "locked",
      version: 3,
      lock: { checkout_ref: "pay-1", locked_version: 3, total_cents: 5000, token: expect.any(String) },
    });
    const read = await db.as(STAFF_A2).rpc("get_cart", { p_cart_id: cart.id });
    expect(read.lock).toEqual({
      checkout_ref: "pay-1",
      locked_version: 3,
      total_cents: 5000,
      expires_at: locked.lock.expires_at,
    });
    const itemId = cart.items[0].id;
    await expectError(ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] }), "cart_locked");
    await expectError(
      ann.rpc("set_item_quantity", { p_cart_id: cart.id, p_item_id: itemId, p_quantity: 5 }),
      "cart_locked",
    );
    await expectError(ann.rpc("remove_item", { p_cart_id: cart.id, p_item_id: itemId }), "cart_locked");
    expect((await ann.rpc("get_cart", { p_cart_id: cart.id })).version).toBe(3);
  });

  it("returns the same lock to the same checkout_ref and refuses any other", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await cartWithItems();
    const first = await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-2", p_expected_version: 2 });
    const again = await db.as(STAFF_A2).rpc("lock_cart", {
      p_cart_id: cart.id,
      p_checkout_ref: "pay-2",
      p_expected_version: 2,
    });
    expect(again).toEqual(first);
    await expectError(ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-other" }), "cart_locked");
    await expectError(ann.rpc("lock_cart", { p_cart_id: cart.id }), "cart_locked");
  });

  it("checks the expected version and its inputs", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await cartWithItems();
    const e = await expectError(
      ann.rpc("lock_cart", { p_cart_id: cart.id, p_expected_version: 1 }),
      "version_conflict",
    );
    expect(e.api.details).toEqual({ current_version: 2 });
    await expectError(ann.rpc("lock_cart", { p_cart_id: cart.id, p_ttl_seconds: 0 }), "invalid_input");
    await expectError(ann.rpc("lock_cart", { p_cart_id: MISSING }), "not_found");
  });
});

describe("update_cart_lock and unlock_cart", () => {
  it("changes the checkout ref with the token, and unlocking kills the token", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await cartWithItems();
    const { lock } = await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-3" });
    await expectError(
      ann.rpc("update_cart_lock", { p_cart_id: cart.id, p_lock_token: MISSING, p_checkout_ref: "x" }),
      "lock_mismatch",
    );
    const updated = await ann.rpc("update_cart_lock", {
      p_cart_id: cart.id,
      p_lock_token: lock.token,
      p_checkout_ref: "pay-3b",
    });
    expect(updated).toMatchObject({ version: 4, status: "locked", lock: { checkout_ref: "pay-3b" } });
    expect(updated.lock.token).toBeUndefined();

    await expectError(ann.rpc("unlock_cart", { p_cart_id: cart.id, p_lock_token: MISSING }), "lock_mismatch");
    const unlocked = await ann.rpc("unlock_cart", { p_cart_id: cart.id, p_lock_token: lock.token });
    expect(unlocked).toMatchObject({ version: 5, status: "active", lock: null });
    await expectError(ann.rpc("unlock_cart", { p_cart_id: cart.id, p_lock_token: lock.token }), "lock_mismatch");
    await expectError(
      ann.rpc("complete_checkout", {
        p_cart_id: cart.id,
        p_lock_token: lock.token,
        p_checkout_ref: "pay-3b",
        p_paid_total_cents: 5000,
      }),
      "lock_mismatch",
    );
    expect(await kinds(cart.id)).toEqual(["created", "item_added", "locked", "lock_updated", "unlocked"]);
  });
});

describe("complete_checkout", () => {
  it("requires the locked total, completes once, and replays for the same token and ref", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await cartWithItems(3);
    const { lock } = await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-4" });
    const pay = (args: object) =>
      ann.rpc("complete_checkout", {
        p_cart_id: cart.id,
        p_lock_token: lock.token,
        p_checkout_ref: "pay-4",
        p_paid_total_cents: 7500,
        ...args,
      });
    const mismatch = await expectError(pay({ p_paid_total_cents: 7499 }), "total_mismatch");
    expect(mismatch.api.details).toEqual({ total_cents: 7500 });
    await expectError(pay({ p_lock_token: MISSING }), "lock_mismatch");
    await expectError(pay({ p_paid_total_cents: -1 }), "invalid_input");
    const done = await pay({});
    expect(done).toMatchObject({ status: "checked_out", version: 4, lock: null, subtotal_cents: 7500 });
    expect(await pay({})).toEqual(done);
    await expectError(pay({ p_checkout_ref: "pay-other" }), "cart_closed");
    await expectError(ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] }), "cart_closed");
    await expectError(ann.rpc("lock_cart", { p_cart_id: cart.id }), "cart_closed");
    const fresh = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: `co-${deviceSeq}` });
    expect(fresh.id).not.toBe(cart.id);
  });

  it("completes with the token of an expired lock when no item changed", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await cartWithItems();
    const { lock } = await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-5" });
    await expireLock(cart.id);
    // Released by the sweeper in between: the token still completes.
    expect(await db.service.rpc("expire_cart_locks")).toBe(1);
    const done = await ann.rpc("complete_checkout", {
      p_cart_id: cart.id,
      p_lock_token: lock.token,
      p_checkout_ref: "pay-5",
      p_paid_total_cents: 5000,
    });
    expect(done.status).toBe("checked_out");
    expect(await kinds(cart.id)).toEqual(["created", "item_added", "locked", "lock_expired", "checked_out"]);
  });

  it("refuses the token of an expired lock once an item changed: cart_changed", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await cartWithItems();
    const { lock } = await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-6" });
    await expireLock(cart.id);
    const after = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0], p_expected_version: 3 });
    expect(after).toMatchObject({ status: "active", version: 5, lock: null });
    expect(await kinds(cart.id)).toEqual(["created", "item_added", "locked", "lock_expired", "item_added"]);
    await expectError(
      ann.rpc("complete_checkout", {
        p_cart_id: cart.id,
        p_lock_token: lock.token,
        p_checkout_ref: "pay-6",
        p_paid_total_cents: 5000,
      }),
      "cart_changed",
    );
  });

  it("shows an expired lock as released before anyone records it, and lets another checkout lock", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await cartWithItems();
    await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-7" });
    await expireLock(cart.id);
    expect(await ann.rpc("get_cart", { p_cart_id: cart.id })).toMatchObject({
      status: "active",
      lock: null,
      version: 3,
    });
    const relocked = await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-7b" });
    expect(relocked).toMatchObject({
      status: "locked",
      version: 5,
      lock: { checkout_ref: "pay-7b", locked_version: 5 },
    });
    await assertInvariants(db.sql);
  });

  it("marks the customer's queue entry at that location done", async () => {
    const ann = db.as(STAFF_A1);
    const { entry, cart } = await ann.rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[2] });
    await ann.rpc("call_next", { p_location_id: LOCATION_A1 });
    const filled = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[1] });
    const { lock } = await ann.rpc("lock_cart", { p_cart_id: cart.id });
    await ann.rpc("complete_checkout", {
      p_cart_id: cart.id,
      p_lock_token: lock.token,
      p_checkout_ref: "pay-8",
      p_paid_total_cents: filled.subtotal_cents,
    });
    const [row] = await db.sql`select status, finished_at from pos.queue_entries where id = ${entry.id}`;
    expect(row.status).toBe("done");
    expect(row.finished_at).not.toBeNull();
    await assertInvariants(db.sql);
  });
});

describe("expire_cart_locks", () => {
  it("is for service_role only and releases each expired lock with one event", async () => {
    const cart = await cartWithItems();
    await db.as(STAFF_A1).rpc("lock_cart", { p_cart_id: cart.id });
    await expireLock(cart.id);
    await expectError(db.as(STAFF_A1).rpc("expire_cart_locks"), "forbidden");
    await expectError(db.anon.rpc("expire_cart_locks"), "forbidden");
    expect(await db.service.rpc("expire_cart_locks")).toBe(1);
    expect(await db.service.rpc("expire_cart_locks")).toBe(0);
    expect((await kinds(cart.id)).at(-1)).toBe("lock_expired");
    await assertInvariants(db.sql);
  });
});
