// The ops fixes of contract v1.1 ("Operations"): who may call them, what each
// records (one history event with its actor and reason, one version) and that
// each change is broadcast like any other.
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertInvariants,
  type Caller,
  cartRow,
  expectError,
  freshDatabase,
  type TestDatabase,
} from "../helpers/db.ts";
import {
  addManagerA,
  CUSTOMER_A,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  MANAGER_A,
  MISSING,
  PRODUCT_A,
  PRODUCT_B1,
  STAFF_A1,
  STAFF_A2,
  STAFF_B1,
  STORE_A,
  STORE_B,
} from "../helpers/fixture.ts";

let db: TestDatabase;
let deviceNo = 0;
beforeAll(async () => {
  db = await freshDatabase();
  await addManagerA(db.sql);
  // Duplicates can only exist where the unique indexes do not (before they
  // landed, issue 003); merge_store_duplicate_carts is for such a database.
  await db.sql`drop index pos.carts_one_open_per_customer_idx`;
  await db.sql`drop index pos.carts_one_open_per_device_idx`;
});

/** Who may fix store A, with the actor_id their events carry. */
const fixers = () => [
  { who: "owner", caller: db.as(STAFF_A1), actor: STAFF_A1 },
  { who: "manager", caller: db.as(MANAGER_A), actor: MANAGER_A },
  { who: "service_role", caller: db.service, actor: null },
];

async function cartWithItem(): Promise<any> {
  const ann = db.as(STAFF_A1);
  const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: `ops-${++deviceNo}` });
  return await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[2], p_quantity: 2 });
}

async function lockedCart(): Promise<any> {
  const cart = await cartWithItem();
  return await db.as(STAFF_A1).rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: `pay-${cart.id}` });
}

async function wrongTotalsCart(): Promise<any> {
  const cart = await cartWithItem();
  await db.sql`update pos.carts set subtotal_cents = subtotal_cents + 100, item_count = 7 where id = ${cart.id}`;
  return cart;
}

async function lastEvent(cartId: string) {
  const [event] = await db.sql`select version::int, kind, actor_id, data from pos.cart_events
                                where cart_id = ${cartId} order by version desc limit 1`;
  return event;
}

async function broadcastVersions(cartId: string): Promise<number[]> {
  const rows = await db.sql`select (payload ->> 'version')::int as v from realtime.messages
                             where topic = ${"cart:" + cartId} and event = 'cart_updated' order by inserted_at, v`;
  return rows.map((r) => r.v);
}

/** The three single-cart fixes: a cart that needs each, and what it looks like after. */
const cartFixes = {
  release_cart_lock: { prepare: lockedCart, kind: "unlocked", status: "active" },
  abandon_cart: { prepare: cartWithItem, kind: "abandoned", status: "abandoned" },
  repair_cart_totals: { prepare: wrongTotalsCart, kind: "repaired", status: "active" },
} as const;

describe.each(Object.entries(cartFixes))("%s", (rpc, fix) => {
  const name = rpc as keyof typeof cartFixes;

  it("works for the store's owner, a manager and service_role: one audited version, broadcast", async () => {
    for (const { who, caller, actor } of fixers()) {
      const cart = await fix.prepare();
      const before = await cartRow(db.sql, cart.id);
      const reason = `${who} fixing ${name}`;
      const result = await caller.rpc(name, { p_cart_id: cart.id, p_reason: reason });
      expect(result, who).toMatchObject({ id: cart.id, status: fix.status, version: before.version + 1 });
      expect(await cartRow(db.sql, cart.id), who).toMatchObject({ status: fix.status, version: before.version + 1 });
      expect(await lastEvent(cart.id), who).toMatchObject({
        version: before.version + 1,
        kind: fix.kind,
        actor_id: actor,
        data: expect.objectContaining({ reason }),
      });
      expect(await broadcastVersions(cart.id), who).toContain(before.version + 1);
      const history = await db.as(STAFF_A2).rpc("get_cart_history", { p_cart_id: cart.id });
      expect(history.at(-1), who).toMatchObject({ version: before.version + 1, kind: fix.kind, actor_id: actor });
    }
  });

  it("answers staff forbidden and another store's owner not_found, changing nothing", async () => {
    const cart = await fix.prepare();
    const before = await cartRow(db.sql, cart.id);
    const broadcasts = await broadcastVersions(cart.id);
    await expectError(db.as(STAFF_A2).rpc(name, { p_cart_id: cart.id, p_reason: "not mine to fix" }), "forbidden");
    await expectError(db.as(STAFF_B1).rpc(name, { p_cart_id: cart.id, p_reason: "not my store" }), "not_found");
    await expectError(db.as(STAFF_A1).rpc(name, { p_cart_id: MISSING, p_reason: "no such cart" }), "not_found");
    await expectError(db.anon.rpc(name, { p_cart_id: cart.id, p_reason: "anyone" }), "forbidden");
    expect(await cartRow(db.sql, cart.id)).toEqual(before);
    expect(await broadcastVersions(cart.id)).toEqual(broadcasts);
  });

  it("takes a reason of 1 to 500 characters, not only spaces", async () => {
    const cart = await fix.prepare();
    const before = await cartRow(db.sql, cart.id);
    for (const reason of [null, "", "   ", "x".repeat(501)]) {
      await expectError(db.as(STAFF_A1).rpc(name, { p_cart_id: cart.id, p_reason: reason }), "invalid_input");
    }
    await expectError(db.as(STAFF_A1).rpc(name, { p_cart_id: "not-a-uuid", p_reason: "x" }), "invalid_input");
    expect(await cartRow(db.sql, cart.id)).toEqual(before);
    const result = await db.as(STAFF_A1).rpc(name, { p_cart_id: cart.id, p_reason: "x".repeat(500) });
    expect(result.version).toBe(before.version + 1);
  });
});

describe("release_cart_lock", () => {
  it("marks the event by_ops, and a payment that went through may still complete with its token", async () => {
    const cart = await lockedCart();
    const released = await db.as(STAFF_A1).rpc("release_cart_lock", { p_cart_id: cart.id, p_reason: "terminal froze" });
    expect(released).toMatchObject({ status: "active", lock: null });
    expect((await lastEvent(cart.id)).data).toMatchObject({ by_ops: true, checkout_ref: cart.lock.checkout_ref });
    const done = await db.as(STAFF_A2).rpc("complete_checkout", {
      p_cart_id: cart.id,
      p_lock_token: cart.lock.token,
      p_checkout_ref: cart.lock.checkout_ref,
      p_paid_total_cents: cart.lock.total_cents,
    });
    expect(done.status).toBe("checked_out");
  });

  it("releases a lock that expired unrecorded, and leaves a cart with no lock unchanged", async () => {
    const cart = await lockedCart();
    await db.sql`update pos.carts set lock_expires_at = now() - interval '5 minutes' where id = ${cart.id}`;
    const released = await db.service.rpc("release_cart_lock", { p_cart_id: cart.id, p_reason: "stuck" });
    expect(released).toMatchObject({ status: "active", version: cart.version + 1 });
    expect((await lastEvent(cart.id)).data).toMatchObject({ by_ops: true, lock_had_expired: true });
    const again = await db.service.rpc("release_cart_lock", { p_cart_id: cart.id, p_reason: "stuck" });
    expect(again.version).toBe(cart.version + 1);
    expect(await broadcastVersions(cart.id)).not.toContain(cart.version + 2);
  });

  it("answers cart_closed on a closed cart", async () => {
    const cart = await cartWithItem();
    await db.service.rpc("abandon_cart", { p_cart_id: cart.id, p_reason: "left the shop" });
    await expectError(db.service.rpc("release_cart_lock", { p_cart_id: cart.id, p_reason: "x" }), "cart_closed");
  });
});

describe("abandon_cart", () => {
  it("overrides a lock (its checkout is then refused) and takes the customer out of the queue", async () => {
    const ann = db.as(STAFF_A1);
    const { entry, cart } = await ann.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[2] });
    await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] });
    const locked = await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "abandon-me" });
    const queueBroadcasts = await db.sql`select count(*)::int as n from realtime.messages
                                          where topic = ${"queue:" + LOCATION_A2}`;
    const abandoned = await ann.rpc("abandon_cart", { p_cart_id: cart.id, p_reason: "walked out" });
    expect(abandoned).toMatchObject({ status: "abandoned", lock: null, version: locked.version + 1 });
    expect((await lastEvent(cart.id)).data).toMatchObject({
      by_ops: true,
      reason: "walked out",
      previous_status: "locked",
      lock: { checkout_ref: "abandon-me" },
    });
    expect((await db.sql`select status from pos.queue_entries where id = ${entry.id}`)[0].status).toBe("left");
    const [{ n }] = await db.sql`select count(*)::int as n from realtime.messages where topic = ${
      "queue:" + LOCATION_A2
    }`;
    expect(n).toBe(queueBroadcasts[0].n + 1);
    await expectError(
      ann.rpc("complete_checkout", {
        p_cart_id: cart.id,
        p_lock_token: locked.lock.token,
        p_checkout_ref: "abandon-me",
        p_paid_total_cents: locked.lock.total_cents,
      }),
      "cart_closed",
    );
    const again = await ann.rpc("abandon_cart", { p_cart_id: cart.id, p_reason: "walked out" });
    expect(again.version).toBe(abandoned.version);
  });
});

describe("repair_cart_totals", () => {
  it("changes nothing when the totals agree with the lines", async () => {
    const cart = await cartWithItem();
    const result = await db.as(STAFF_A1).rpc("repair_cart_totals", { p_cart_id: cart.id, p_reason: "just checking" });
    expect(result).toEqual(await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: cart.id }));
    expect(result.version).toBe(cart.version);
    expect(await broadcastVersions(cart.id)).not.toContain(cart.version + 1);
  });

  it("records what the totals were and became", async () => {
    const cart = await wrongTotalsCart();
    const result = await db.as(MANAGER_A).rpc("repair_cart_totals", { p_cart_id: cart.id, p_reason: "bad import" });
    expect(result).toMatchObject({ subtotal_cents: 5000, item_count: 2 });
    expect((await lastEvent(cart.id)).data).toEqual({
      by_ops: true,
      reason: "bad import",
      before: { subtotal_cents: 5100, item_count: 7 },
      after: { subtotal_cents: 5000, item_count: 2 },
    });
  });

  it("refuses a cart under a live lock: its payment was priced from those totals", async () => {
    const cart = await lockedCart();
    await expectError(db.service.rpc("repair_cart_totals", { p_cart_id: cart.id, p_reason: "x" }), "cart_locked");
  });
});

describe("merge_store_duplicate_carts", () => {
  /** Two open carts for one customer at one location, planted as a bug once did (issue 003). */
  async function plantDuplicates(customerId: string): Promise<{ older: string; newer: string }> {
    const rows = await db.sql`
      insert into pos.carts (store_id, location_id, customer_id, created_at)
      values (${STORE_A}, ${LOCATION_A1}, ${customerId}, now() - interval '2 minutes'),
             (${STORE_A}, ${LOCATION_A1}, ${customerId}, now() - interval '1 minute')
      returning id, created_at`;
    rows.sort((a, b) => a.created_at - b.created_at);
    for (const row of rows) {
      await db.sql`insert into pos.cart_events (cart_id, version, kind) values (${row.id}, 1, 'created')`;
    }
    await db.sql`insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents)
                 values (${rows[1].id}, ${PRODUCT_A[0]}, 'Beard Trim', 3, 500)`;
    await db.sql`update pos.carts set subtotal_cents = 1500, item_count = 3 where id = ${rows[1].id}`;
    return { older: rows[0].id, newer: rows[1].id };
  }

  it("folds each group into its oldest cart, as the owner, a manager or service_role, audited and broadcast", async () => {
    for (const { who, caller, actor } of fixers()) {
      const { older, newer } = await plantDuplicates(CUSTOMER_A[0]);
      const merged = await caller.rpc("merge_store_duplicate_carts", { p_store_id: STORE_A, p_reason: `${who} merge` });
      expect(merged, who).toBe(1);
      expect(await cartRow(db.sql, newer), who).toMatchObject({ status: "merged", version: 2 });
      expect(await cartRow(db.sql, older), who).toMatchObject({ status: "active", version: 2, item_count: 3 });
      for (const id of [older, newer]) {
        expect(await lastEvent(id), who).toMatchObject({
          version: 2,
          kind: "merged",
          actor_id: actor,
          data: expect.objectContaining({ reason: `${who} merge`, by_ops: true }),
        });
        expect(await broadcastVersions(id), who).toEqual([2]);
      }
      // Folded into the survivor for the next round: the customer has one open cart again.
      await db.service.rpc("abandon_cart", { p_cart_id: older, p_reason: "next round" });
    }
  });

  it("answers staff forbidden, another store's owner not_found; that owner merges only their own store", async () => {
    const { older, newer } = await plantDuplicates(CUSTOMER_A[1]);
    await expectError(
      db.as(STAFF_A2).rpc("merge_store_duplicate_carts", { p_store_id: STORE_A, p_reason: "x" }),
      "forbidden",
    );
    await expectError(
      db.as(STAFF_B1).rpc("merge_store_duplicate_carts", { p_store_id: STORE_A, p_reason: "x" }),
      "not_found",
    );
    await expectError(
      db.service.rpc("merge_store_duplicate_carts", { p_store_id: MISSING, p_reason: "x" }),
      "not_found",
    );
    for (const reason of [null, "", " ", "x".repeat(501)]) {
      await expectError(
        db.as(STAFF_A1).rpc("merge_store_duplicate_carts", { p_store_id: STORE_A, p_reason: reason }),
        "invalid_input",
      );
    }
    expect(await db.as(STAFF_B1).rpc("merge_store_duplicate_carts", { p_store_id: STORE_B, p_reason: "mine" })).toBe(0);
    expect((await cartRow(db.sql, older)).status).toBe("active");
    expect((await cartRow(db.sql, newer)).status).toBe("active");
    expect(await db.as(STAFF_A1).rpc("merge_store_duplicate_carts", { p_store_id: STORE_A, p_reason: "ok" })).toBe(1);
  });
});

describe("who may read a store's health and alerts", () => {
  it("the store's owners and managers and service_role; staff are forbidden, other stores not_found", async () => {
    for (const caller of [db.as(STAFF_A1), db.as(MANAGER_A), db.service]) {
      expect(Array.isArray(await caller.rpc("get_store_health", { p_store_id: STORE_A }))).toBe(true);
      expect(Array.isArray(await caller.rpc("list_store_alerts", { p_store_id: STORE_A }))).toBe(true);
    }
    await expectError(db.as(STAFF_A2).rpc("get_store_health", { p_store_id: STORE_A }), "forbidden");
    await expectError(db.as(STAFF_A2).rpc("list_store_alerts", { p_store_id: STORE_A }), "forbidden");
    await expectError(db.as(STAFF_B1).rpc("get_store_health", { p_store_id: STORE_A }), "not_found");
    await expectError(db.as(STAFF_B1).rpc("list_store_alerts", { p_store_id: STORE_A }), "not_found");
    await expectError(
      db.as(STAFF_A1).rpc("get_store_health", {
        p_store_id: STORE_A,
        p_since: new Date(Date.now() - 40 * 86400_000).toISOString(),
      }),
      "invalid_input",
    );
  });

  it("check_alerts and record_refusal are for service_role only", async () => {
    for (const caller of [db.as(STAFF_A1), db.as(MANAGER_A), db.as(STAFF_A2)] as Caller[]) {
      await expectError(caller.rpc("check_alerts"), "forbidden");
      await expectError(
        caller.rpc("record_refusal", { p_code: "busy", p_rpc: "add_item", p_location_id: LOCATION_A1 }),
        "forbidden",
      );
    }
    expect(await db.service.rpc("check_alerts")).toMatchObject({ opened: expect.any(Number) });
    expect(await db.service.rpc("record_refusal", { p_code: "busy", p_rpc: "call_next", p_location_id: LOCATION_B1 }))
      .toBe(true);
    expect(await db.service.rpc("record_refusal", { p_code: "busy", p_rpc: "call_next", p_location_id: MISSING }))
      .toBe(false);
    await expectError(
      db.service.rpc("record_refusal", { p_code: "not_found", p_rpc: "x", p_cart_id: MISSING }),
      "invalid_input",
    );
    const [{ n }] = await db.sql`select count(*)::int as n from pos.refusals where store_id = ${STORE_B}`;
    expect(n).toBe(1);
  });
});

describe("check_alerts", () => {
  it("run by overlapping schedulers, opens each alert once and fails none of them", async () => {
    const { entry } = await db.as(STAFF_A1).rpc("add_to_queue", {
      p_location_id: LOCATION_A1,
      p_customer_id: CUSTOMER_A[2],
    });
    await db.sql`update pos.queue_entries set joined_at = now() - interval '40 minutes' where id = ${entry.id}`;
    const pool = db.pool(6);
    await Promise.all(Array.from({ length: 6 }, () => pool`select 1`));
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => db.service.on(pool).rpc("check_alerts")));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const rows = await db.sql`select kind, closed_at from pos.alert_history where subject = ${"entry:" + entry.id}`;
    expect(rows).toEqual([{ kind: "long_wait", closed_at: null }]);
    await db.as(STAFF_A1).rpc("leave_queue", { p_entry_id: entry.id });
    await db.service.rpc("check_alerts");
    const [closed] = await db.sql`select closed_at from pos.alert_history where subject = ${"entry:" + entry.id}`;
    expect(closed.closed_at).toBeInstanceOf(Date);
  });
});

describe("a rise in refusals", () => {
  // At noon on a quiet day of store B: `recent` refusals in the last 10 minutes,
  // `before` spread over the hour before them.
  async function riseAt(code: string, recent: number, before: number): Promise<string[]> {
    const noon = new Date("2026-01-05T12:00:00Z");
    await db.sql`delete from pos.refusals where store_id = ${STORE_B}`;
    await db.sql`insert into pos.refusals (store_id, code, rpc, at)
                 select ${STORE_B}, ${code}, 'add_item', ${noon}::timestamptz - make_interval(secs => 5 + g % 500)
                   from generate_series(1, ${recent}) g`;
    await db.sql`insert into pos.refusals (store_id, code, rpc, at)
                 select ${STORE_B}, ${code}, 'add_item', ${noon}::timestamptz - make_interval(mins => 11 + g % 59)
                   from generate_series(1, ${before}) g`;
    const rows = await db.sql`select kind from pos.alerts_at(${noon}) where store_id = ${STORE_B}`;
    return rows.map((r) => r.kind);
  }

  it("is at least 10 in the last 10 minutes and at least 3 times the 10-minute average of the hour before", async () => {
    expect(await riseAt("version_conflict", 9, 0)).toEqual([]);
    expect(await riseAt("version_conflict", 10, 0)).toEqual(["conflict_rise"]);
    expect(await riseAt("cart_locked", 10, 20)).toEqual(["conflict_rise"]);
    expect(await riseAt("cart_locked", 10, 21)).toEqual([]);
    expect(await riseAt("busy", 30, 60)).toEqual(["busy_rise"]);
    expect(await riseAt("busy", 30, 61)).toEqual([]);
    await db.sql`delete from pos.refusals where store_id = ${STORE_B}`;
  });
});

describe("after all of it", () => {
  it("the invariants hold once the carts left wrong on purpose are repaired", async () => {
    for (const { cart_id } of await db.sql`select cart_id from ops.cart_total_mismatches`) {
      await db.as(STAFF_A1).rpc("repair_cart_totals", { p_cart_id: cart_id, p_reason: "end of the test" });
    }
    await db.as(STAFF_B1).rpc("get_or_create_cart", { p_location_id: LOCATION_B1, p_device_id: "b-1" })
      .then((c) => db.as(STAFF_B1).rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_B1 }));
    await assertInvariants(db.sql);
  });
});
