// The snapshot a mutation returns and broadcasts is built from the row its
// version bump returns and from one scan of the lines, not read back: these
// tests hold it equal, after every kind of change, to the snapshot a read
// builds from what was stored, and to what was broadcast.
import { beforeAll, describe, expect, it } from "vitest";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});

/** A small deterministic generator, so a failure replays. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe("the snapshot of a change", () => {
  it("equals the read snapshot and the broadcast after every kind of change", async () => {
    const ann = db.as(STAFF_A1);
    const next = random(7);
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
    let cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "snapshot-test" });
    const kinds = new Set<string>();
    for (let step = 0; step < 60; step++) {
      const r = next();
      let kind: string;
      if (cart.status === "locked") {
        kind = r < 0.5 ? "unlock" : "checkout";
        const token = cart.lock.token;
        cart = kind === "unlock"
          ? await ann.rpc("unlock_cart", { p_cart_id: cart.id, p_lock_token: token })
          : await ann.rpc("complete_checkout", {
            p_cart_id: cart.id,
            p_lock_token: token,
            p_checkout_ref: cart.lock.checkout_ref,
            p_paid_total_cents: cart.lock.total_cents,
          });
        if (kind === "checkout") {
          kinds.add(kind);
          await expectConsistent(cart);
          cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "snapshot-test" });
          continue;
        }
      } else if (cart.items.length === 0 || r < 0.45) {
        kind = "add";
        cart = await ann.rpc("add_item", {
          p_cart_id: cart.id,
          p_product_id: pick(PRODUCT_A),
          p_quantity: 1 + Math.floor(next() * 3),
          p_options: next() < 0.3 ? { size: pick(["s", "m"]) } : {},
        });
      } else if (r < 0.65) {
        kind = "quantity";
        cart = await ann.rpc("set_item_quantity", {
          p_cart_id: cart.id,
          p_item_id: pick(cart.items as { id: string }[]).id,
          p_quantity: Math.floor(next() * 4),
        });
      } else if (r < 0.8) {
        kind = "remove";
        cart = await ann.rpc("remove_item", { p_cart_id: cart.id, p_item_id: pick(cart.items as { id: string }[]).id });
      } else {
        kind = "lock";
        cart = await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: `ref-${step}` });
      }
      kinds.add(kind);
      await expectConsistent(cart);
    }
    expect([...kinds].sort()).toEqual(["add", "checkout", "lock", "quantity", "remove", "unlock"]);
    await assertInvariants(db.sql);
  });
});

async function expectConsistent(returned: { id: string; version: number; lock: { token?: string } | null }) {
  const { lock, ...rest } = returned;
  const asBroadcast = {
    ...rest,
    lock: lock && Object.fromEntries(Object.entries(lock).filter(([k]) => k !== "token")),
  };
  const read = await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: returned.id });
  expect(read).toEqual(asBroadcast);
  const [sent] = await db.sql`select payload from realtime.messages
    where topic = ${"cart:" + returned.id} order by inserted_at desc, (payload ->> 'version')::bigint desc limit 1`;
  expect(sent.payload).toEqual(asBroadcast);
}
