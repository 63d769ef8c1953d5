// A scripted day in store A: carts, checkouts, conflicts, an expired lock, a
// stuck lock, duplicates planted by direct SQL, a long wait in the queue. Each
// step runs the real RPCs, then its rows are stamped with the step's scripted
// time, so ops.store_health can be compared with exactly what the script did
// and the alert check can be driven through the day minute by minute.
import { beforeAll, describe, expect, it } from "vitest";
import { assertInvariants, expectError, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import {
  addManagerA,
  CUSTOMER_A,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  MANAGER_A,
  PRODUCT_A,
  PRODUCT_B1,
  STAFF_A1,
  STAFF_B1,
  STORE_A,
  STORE_B,
} from "../helpers/fixture.ts";

let db: TestDatabase;
// The day's first hour: six hours before the current one, so every scripted
// moment is in the past and the hours are whole.
let day: Date;
const t = (hhmm: string): Date => {
  const [h, m, s = "0"] = hhmm.split(":");
  return new Date(day.getTime() + ((Number(h) - 9) * 3600 + Number(m) * 60 + Number(s)) * 1000);
};

/** Runs a step, then stamps every row it wrote (or touched) with the scripted time. */
async function at<T>(time: string, step: () => Promise<T>): Promise<T> {
  const [{ start }] = await db.sql`select clock_timestamp() as start`;
  const result = await step();
  const when = t(time);
  await db.sql.begin(async (tx) => {
    await tx`update pos.cart_events set at = ${when} where at >= ${start}`;
    await tx`update pos.carts set created_at = ${when} where created_at >= ${start}`;
    await tx`update pos.carts set updated_at = ${when} where updated_at >= ${start}`;
    await tx`update pos.carts set checked_out_at = ${when} where checked_out_at >= ${start}`;
    await tx`update pos.refusals set at = ${when} where at >= ${start}`;
    await tx`update pos.idempotency_keys set created_at = ${when} where created_at >= ${start}`;
    await tx`update pos.idempotency_keys set last_replayed_at = ${when} where last_replayed_at >= ${start}`;
    await tx`update pos.queue_entries set joined_at = ${when} where joined_at >= ${start}`;
    await tx`update pos.queue_entries set called_at = ${when} where called_at >= ${start}`;
    await tx`update pos.queue_entries set finished_at = ${when} where finished_at >= ${start}`;
  });
  return result;
}

/** What the functions do after answering a refusal (tests/functions/ops-refusals.test.ts proves they do). */
async function refused(promise: Promise<unknown>, code: string, rpc: string, target: Record<string, string>) {
  await expectError(promise, code);
  expect(await db.service.rpc("record_refusal", { p_code: code, p_rpc: rpc, ...target })).toBe(true);
}

/** The alert check as pg_cron runs it, at a scripted minute. */
async function check(time: string) {
  const [{ result }] = await db.sql`select pos.check_alerts(${t(time)}) as result`;
  return result;
}

beforeAll(async () => {
  db = await freshDatabase();
  const [{ hour }] = await db.sql`select date_trunc('hour', now()) - interval '6 hours' as hour`;
  day = hour;
  await addManagerA(db.sql);
  // As before the unique indexes landed (issue 003): duplicates are possible.
  await db.sql`drop index pos.carts_one_open_per_customer_idx`;
});

describe("a scripted day", () => {
  const ann = () => db.as(STAFF_A1);
  let cart1: any, cart2: any, cart3: any, cart5: any, cart7: any, entry: any;
  const cart6 = "c6000000-0000-4000-8000-000000000006";
  const healthA = async () =>
    (await db.sql`select * from ops.store_health where store_id = ${STORE_A}`)
      .map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [
            k,
            k === "hour"
              ? (v as Date).toISOString()
              : k === "store_name" || k === "store_id" || v === null
              ? v
              : Number(v),
          ]),
        )
      );

  it("runs the day", async () => {
    // 09:00 hour: a sale, retried twice by its device; a stale edit; a lock that holds off an edit.
    cart1 = await at("09:05", async () => {
      const c = await ann().rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[0] });
      return await ann().rpc("add_item", {
        p_cart_id: c.id,
        p_product_id: PRODUCT_A[2],
        p_quantity: 2,
        p_idempotency_key: "k1",
      });
    });
    await at("09:06", async () => {
      for (let i = 0; i < 2; i++) {
        await ann().rpc("add_item", {
          p_cart_id: cart1.id,
          p_product_id: PRODUCT_A[2],
          p_quantity: 2,
          p_idempotency_key: "k1",
        });
      }
    });
    await at(
      "09:10",
      () =>
        refused(
          ann().rpc("add_item", { p_cart_id: cart1.id, p_product_id: PRODUCT_A[0], p_expected_version: 1 }),
          "version_conflict",
          "add_item",
          { p_cart_id: cart1.id },
        ),
    );
    const lock1 = await at("09:20", () => ann().rpc("lock_cart", { p_cart_id: cart1.id, p_checkout_ref: "pay-1" }));
    await at(
      "09:21",
      () =>
        refused(ann().rpc("add_item", { p_cart_id: cart1.id, p_product_id: PRODUCT_A[0] }), "cart_locked", "add_item", {
          p_cart_id: cart1.id,
        }),
    );
    await at("09:23", () =>
      ann().rpc("complete_checkout", {
        p_cart_id: cart1.id,
        p_lock_token: lock1.lock.token,
        p_checkout_ref: "pay-1",
        p_paid_total_cents: 5000,
      }));

    // 10:00 hour: a lock that runs out at 10:06 and is released by the every-minute job at 10:07; two busy answers.
    cart2 = await at("10:00", async () => {
      const c = await ann().rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "ipad-day" });
      return await ann().rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_A[0] });
    });
    await at(
      "10:05",
      () => ann().rpc("lock_cart", { p_cart_id: cart2.id, p_checkout_ref: "pay-2", p_ttl_seconds: 60 }),
    );
    await db.sql`update pos.carts set lock_expires_at = ${t("10:06")} where id = ${cart2.id}`;
    expect(await at("10:07", () => db.service.rpc("expire_cart_locks"))).toBe(1);
    await at("10:30", async () => {
      for (let i = 0; i < 2; i++) {
        await db.service.rpc("record_refusal", { p_code: "busy", p_rpc: "call_next", p_location_id: LOCATION_A1 });
      }
    });
    // Store B has its own row.
    await at("10:40", async () => {
      const c = await db.as(STAFF_B1).rpc("get_or_create_cart", { p_location_id: LOCATION_B1, p_device_id: "b-day" });
      await db.as(STAFF_B1).rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_B1 });
    });

    // 11:00 hour, checked every few minutes.
    cart3 = await at("11:00", async () => {
      const c = await ann().rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[1] });
      await ann().rpc("add_item", { p_cart_id: c.id, p_product_id: PRODUCT_A[1] });
      return await ann().rpc("lock_cart", { p_cart_id: c.id, p_checkout_ref: "pay-3", p_ttl_seconds: 120 });
    });
    // The lock runs out at 11:02 and nothing releases it: pg_cron is down.
    await db.sql`update pos.carts set lock_expires_at = ${t("11:02")} where id = ${cart3.id}`;
    expect(await check("11:00:30")).toMatchObject({ opened: 0, closed: 0 });
    expect(await check("11:03")).toMatchObject({ opened: 0, closed: 0 });
    expect(await check("11:05")).toMatchObject({ opened: 1, closed: 0 });

    cart5 = await at(
      "11:10",
      () => ann().rpc("get_or_create_cart", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[2] }),
    );
    await at("11:12", async () => {
      await db.sql`insert into pos.carts (id, store_id, location_id, customer_id, subtotal_cents, item_count)
                   values (${cart6}, ${STORE_A}, ${LOCATION_A2}, ${CUSTOMER_A[2]}, 500, 1)`;
      await db.sql`insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents)
                   values (${cart6}, ${PRODUCT_A[0]}, 'Beard Trim', 1, 500)`;
      await db.sql`insert into pos.cart_events (cart_id, version, kind) values (${cart6}, 1, 'created')`;
    });
    expect(await check("11:13")).toMatchObject({ opened: 1, closed: 0 });

    ({ entry, cart: cart7 } = await at(
      "11:15",
      () => ann().rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[0] }),
    ));
    await at("11:16", () => ann().rpc("add_item", { p_cart_id: cart7.id, p_product_id: PRODUCT_A[0] }));

    // A burst of conflicts: 12 in a minute against none in the hour before.
    await at("11:25", async () => {
      for (let i = 0; i < 12; i++) {
        await refused(
          ann().rpc("add_item", { p_cart_id: cart7.id, p_product_id: PRODUCT_A[0], p_expected_version: 1 }),
          "version_conflict",
          "add_item",
          { p_cart_id: cart7.id },
        );
      }
    });
    expect(await check("11:30")).toMatchObject({ opened: 1, closed: 0 });
    expect(await check("11:36")).toMatchObject({ opened: 0, closed: 1 });
    expect(await check("11:45")).toMatchObject({ opened: 0, closed: 0 });
    expect(await check("11:46")).toMatchObject({ opened: 1, closed: 0 });

    // What the owner's screen shows now (evaluated at the real now: everything above is hours old).
    const shown = await db.as(STAFF_A1).rpc("list_store_alerts", { p_store_id: STORE_A });
    expect(shown.map((a: any) => [a.kind, a.severity])).toEqual([
      ["duplicate_open_carts", "critical"],
      ["stuck_lock", "warning"],
      ["long_wait", "warning"],
    ]);
    expect(shown[0]).toMatchObject({
      location_name: "Sunset Drive",
      customer_name: "Cora Linville",
      cart_id: cart5.id,
    });
    expect([new Date(shown[0].since), new Date(shown[0].opened_at)]).toEqual([t("11:12"), t("11:13")]);
    expect(await db.as(STAFF_B1).rpc("list_store_alerts", { p_store_id: STORE_B })).toEqual([]);

    // The fixes, one by one, each closing its alert at the next check.
    await at("11:50", () => ann().rpc("release_cart_lock", { p_cart_id: cart3.id, p_reason: "terminal rebooted" }));
    expect(await check("11:51")).toMatchObject({ opened: 0, closed: 1 });
    expect(
      await at("11:52", () =>
        db.as(MANAGER_A).rpc("merge_store_duplicate_carts", {
          p_store_id: STORE_A,
          p_reason: "two iPads opened Cora's cart",
        })),
    ).toBe(1);
    expect(await check("11:53")).toMatchObject({ opened: 0, closed: 1 });
    await db.sql`update pos.carts set subtotal_cents = 1 where id = ${cart7.id}`;
    expect(await check("11:54:30")).toMatchObject({ opened: 1, closed: 0 });
    await at("11:55", () => db.service.rpc("repair_cart_totals", { p_cart_id: cart7.id, p_reason: "bad manual edit" }));
    expect(await check("11:56")).toMatchObject({ opened: 0, closed: 1 });
    await at("11:58", () => ann().rpc("call_next", { p_location_id: LOCATION_A1 }));
    expect(await check("11:59")).toMatchObject({ opened: 0, closed: 1, open: 0 });
  });

  it("ops.store_health holds exactly what the script did, per store and hour", async () => {
    const none = {
      checkouts: 0,
      checkout_value_cents: 0,
      locks_expired: 0,
      version_conflicts: 0,
      locked_refusals: 0,
      busy_answers: 0,
      idempotent_replays: 0,
      merges: 0,
      ops_fixes: 0,
    };
    expect(await healthA()).toEqual([
      {
        ...none,
        hour: t("11:00").toISOString(),
        store_name: "Blowing Rock Barbers",
        store_id: STORE_A,
        // cart3 created, added, locked; cart5 created; cart6 planted; cart7 created, added; the release,
        // the merge (an event on each cart) and the repair.
        mutations: 11,
        carts_created: 4,
        locks_taken: 1,
        lock_seconds_avg: 120,
        lock_seconds_max: 120,
        version_conflicts: 12,
        merges: 1,
        ops_fixes: 3,
      },
      {
        ...none,
        hour: t("10:00").toISOString(),
        store_name: "Blowing Rock Barbers",
        store_id: STORE_A,
        mutations: 4,
        carts_created: 1,
        locks_taken: 1,
        lock_seconds_avg: 60,
        lock_seconds_max: 60,
        locks_expired: 1,
        busy_answers: 2,
      },
      {
        ...none,
        hour: t("09:00").toISOString(),
        store_name: "Blowing Rock Barbers",
        store_id: STORE_A,
        mutations: 4,
        carts_created: 1,
        checkouts: 1,
        checkout_value_cents: 5000,
        locks_taken: 1,
        lock_seconds_avg: 180,
        lock_seconds_max: 180,
        version_conflicts: 1,
        locked_refusals: 1,
        idempotent_replays: 2,
      },
    ]);
    expect(
      await db.sql`select customer_name, checkout_ref, locked_at, ended_by, seconds::float from ops.lock_history
                        where store_id = ${STORE_A}`,
    ).toEqual([
      { customer_name: null, checkout_ref: "pay-2", locked_at: t("10:05"), ended_by: "lock_expired", seconds: 60 },
      {
        customer_name: "Ben Watauga",
        checkout_ref: "pay-3",
        locked_at: t("11:00"),
        ended_by: "unlocked",
        seconds: 120,
      },
      {
        customer_name: "Ada Greer",
        checkout_ref: "pay-1",
        locked_at: t("09:20"),
        ended_by: "checked_out",
        seconds: 180,
      },
    ].sort((a, b) => b.seconds - a.seconds));
    const [b] = await db.sql`select hour, mutations::int from ops.store_health where store_id = ${STORE_B}`;
    expect(b).toEqual({ hour: t("10:00"), mutations: 2 });
  });

  it("the owner reads the same figures through get_store_health", async () => {
    const rows = await db.as(STAFF_A1).rpc("get_store_health", {
      p_store_id: STORE_A,
      p_since: t("09:00").toISOString(),
    });
    expect(rows.map((r: any) => [r.mutations, r.checkouts, r.version_conflicts])).toEqual([[11, 0, 12], [4, 0, 0], [
      4,
      1,
      1,
    ]]);
    const later = await db.as(STAFF_A1).rpc("get_store_health", {
      p_store_id: STORE_A,
      p_since: t("10:30").toISOString(),
    });
    expect(later.map((r: any) => r.mutations)).toEqual([11, 4]);
  });

  it("the alert history says when each alert opened and closed", async () => {
    const rows = await db
      .sql`select kind, severity, since, opened_at, closed_at from pos.alert_history order by opened_at`;
    expect(rows).toEqual([
      { kind: "stuck_lock", severity: "warning", since: t("11:02"), opened_at: t("11:05"), closed_at: t("11:51") },
      {
        kind: "duplicate_open_carts",
        severity: "critical",
        since: t("11:12"),
        opened_at: t("11:13"),
        closed_at: t("11:53"),
      },
      { kind: "conflict_rise", severity: "warning", since: t("11:25"), opened_at: t("11:30"), closed_at: t("11:36") },
      { kind: "long_wait", severity: "warning", since: t("11:15"), opened_at: t("11:46"), closed_at: t("11:59") },
      {
        kind: "totals_mismatch",
        severity: "critical",
        since: t("11:16"),
        opened_at: t("11:54:30"),
        closed_at: t("11:56"),
      },
    ]);
    expect(await db.sql`select * from ops.alerts where store_id = ${STORE_A}`).toEqual([]);
    const [first] = await db.sql`select store_name, kind from ops.alert_history order by id limit 1`;
    expect(first.store_name).toBe("Blowing Rock Barbers");
    await assertInvariants(db.sql);
  });
});
