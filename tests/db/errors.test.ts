// Every mutating cart RPC raises the shared prologue's codes the same way:
// cart_closed on a closed cart, version_conflict on a stale version,
// not_found on a missing cart, idempotency_key_reused on a reused key.
import { beforeAll, describe, expect, it } from "vitest";
import { expectError, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, MISSING, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import type { RpcName } from "../../functions/_shared/rpc.ts";

let db: TestDatabase;
let seq = 0;
beforeAll(async () => {
  db = await freshDatabase();
});

/** A cart with one line, and its lock when `locked`. */
async function cart(locked = false) {
  const ann = db.as(STAFF_A1);
  const c = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: `err-${++seq}` });
  const filled = await ann.rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_A[0] });
  const lock = locked ? (await ann.rpc("lock_cart", { p_cart_id: c.id })).lock : null;
  return { id: c.id as string, item: filled.items[0].id as string, version: locked ? 3 : 2, token: lock?.token };
}

type Call = [RpcName, (c: Awaited<ReturnType<typeof cart>>) => Record<string, unknown>, boolean];
const CALLS: Call[] = [
  ["add_item", (c) => ({ p_cart_id: c.id, p_product_id: PRODUCT_A[1] }), false],
  ["set_item_quantity", (c) => ({ p_cart_id: c.id, p_item_id: c.item, p_quantity: 2 }), false],
  ["remove_item", (c) => ({ p_cart_id: c.id, p_item_id: c.item }), false],
  ["lock_cart", (c) => ({ p_cart_id: c.id }), false],
  ["update_cart_lock", (c) => ({ p_cart_id: c.id, p_lock_token: c.token, p_checkout_ref: "r" }), true],
  ["unlock_cart", (c) => ({ p_cart_id: c.id, p_lock_token: c.token }), true],
  [
    "complete_checkout",
    (c) => ({ p_cart_id: c.id, p_lock_token: c.token, p_checkout_ref: "r", p_paid_total_cents: 500 }),
    true,
  ],
];

describe.each(CALLS)("%s", (name, args, needsLock) => {
  const ann = () => db.as(STAFF_A1);

  it("answers version_conflict with the current version, and changes nothing", async () => {
    const c = await cart(needsLock);
    const e = await expectError(
      ann().rpc(name, { ...args(c), p_expected_version: c.version + 5 } as never),
      "version_conflict",
    );
    expect(e.api.details).toEqual({ current_version: c.version });
    expect((await ann().rpc("get_cart", { p_cart_id: c.id })).version).toBe(c.version);
  });

  it("answers not_found for a missing cart", async () => {
    const c = await cart(needsLock);
    await expectError(ann().rpc(name, { ...args(c), p_cart_id: MISSING } as never), "not_found");
  });

  it("answers cart_closed on a checked-out cart", async () => {
    const c = await cart(true);
    await ann().rpc("complete_checkout", {
      p_cart_id: c.id,
      p_lock_token: c.token,
      p_checkout_ref: "done",
      p_paid_total_cents: 500,
    });
    // The same token and ref would replay the completed checkout, by design.
    const another = name === "complete_checkout" ? { p_checkout_ref: "another" } : {};
    await expectError(ann().rpc(name, { ...args(c), ...another } as never), "cart_closed");
  });

  it("answers idempotency_key_reused when its key served another request", async () => {
    const c = await cart(needsLock);
    const key = `err-key-${seq}`;
    const other = await cart();
    await ann().rpc("add_item", { p_cart_id: other.id, p_product_id: PRODUCT_A[2], p_idempotency_key: key });
    await expectError(ann().rpc(name, { ...args(c), p_idempotency_key: key } as never), "idempotency_key_reused");
  });
});

describe("ops RPCs", () => {
  it("answer forbidden to staff and run for service_role", async () => {
    await expectError(db.as(STAFF_A1).rpc("merge_duplicate_carts"), "forbidden");
    await expectError(db.as(STAFF_A1).rpc("expire_cart_locks"), "forbidden");
    expect(await db.service.rpc("merge_duplicate_carts")).toBe(0);
  });
});
