// Refusals that roll back leave nothing in the database, so the functions count
// them afterwards (functions/_shared/refusals.ts -> public.record_refusal), in a
// transaction of their own that the answer never waits for or depends on. And
// the owner's screen: the ops RPCs through supabase.rpc(), a fix reaching a
// subscribed device through Realtime.
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, MISSING, PRODUCT_A, STAFF_A1, STAFF_A2, STORE_A } from "../helpers/fixture.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;
beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  ann = await server.token(STAFF_A1);
});

async function refusals(): Promise<Array<{ code: string; rpc: string; store_id: string }>> {
  return await db.sql`select code, rpc, store_id from pos.refusals order by id` as never;
}

/** Waits (without asserting on time) until `n` refusals are recorded. */
async function untilRecorded(n: number) {
  const deadline = Date.now() + 30_000;
  while ((await refusals()).length < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} recorded refusals, have ${(await refusals()).length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return await refusals();
}

describe("refusals answered by the functions", () => {
  it("count version_conflict and cart_locked against the cart's store, and nothing else", async () => {
    const cart =
      (await server.call("POST", "/carts", { token: ann, body: { location_id: LOCATION_A1, device_id: "r-1" } })).body;
    await server.call("POST", `/carts/${cart.id}/items`, { token: ann, body: { product_id: PRODUCT_A[0] } });
    // Refusals that are not counted go first: the count is recorded in order.
    expect((await server.call("GET", `/carts/${MISSING}`, { token: ann })).status).toBe(404);
    expect(
      (await server.call("POST", `/carts/${MISSING}/items`, { token: ann, body: { product_id: PRODUCT_A[0] } })).status,
    )
      .toBe(404);
    const stale = await server.call("POST", `/carts/${cart.id}/items`, {
      token: ann,
      body: { product_id: PRODUCT_A[0], expected_version: 1 },
    });
    expect([stale.status, stale.body.error.code]).toEqual([409, "version_conflict"]);
    await server.call("POST", `/carts/${cart.id}/lock`, { token: ann, body: { checkout_ref: "r-pay" } });
    const locked = await server.call("POST", `/carts/${cart.id}/items`, {
      token: ann,
      body: { product_id: PRODUCT_A[0] },
    });
    expect([locked.status, locked.body.error.code]).toEqual([423, "cart_locked"]);

    expect(await untilRecorded(2)).toEqual([
      { code: "version_conflict", rpc: "add_item", store_id: STORE_A },
      { code: "cart_locked", rpc: "add_item", store_id: STORE_A },
    ]);
    const [health] = await db.sql`select version_conflicts::int, locked_refusals::int from ops.store_health
                                    where store_id = ${STORE_A}`;
    expect(health).toEqual({ version_conflicts: 1, locked_refusals: 1 });
  });

  it("answer the same when counting fails, and log that the count was lost", async () => {
    const before = (await refusals()).length;
    await db.sql`alter table pos.refusals add constraint refusals_broken check (false) not valid`;
    try {
      const cart =
        (await server.call("POST", "/carts", { token: ann, body: { location_id: LOCATION_A1, device_id: "r-2" } }))
          .body;
      const stale = await server.call("POST", `/carts/${cart.id}/items`, {
        token: ann,
        body: { product_id: PRODUCT_A[0], expected_version: 7 },
      });
      expect([stale.status, stale.body.error.code, stale.body.error.details]).toEqual([409, "version_conflict", {
        current_version: 1,
      }]);
      const deadline = Date.now() + 30_000;
      while (!server.output.some((line) => line.includes("refusal not counted"))) {
        if (Date.now() > deadline) throw new Error("the lost count was not logged");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await db.sql`alter table pos.refusals drop constraint refusals_broken`;
    }
    expect((await refusals()).length).toBe(before);
  });
});

describe("an owner's screen", () => {
  it("reads figures and alerts and releases a lock with supabase.rpc(); the device on the cart sees the release", async () => {
    const owner = server.client(ann);
    const staff = server.client(await server.token(STAFF_A2));
    const cart =
      (await server.call("POST", "/carts", { token: ann, body: { location_id: LOCATION_A1, device_id: "scr-1" } }))
        .body;
    await server.call("POST", `/carts/${cart.id}/items`, { token: ann, body: { product_id: PRODUCT_A[1] } });
    const locked =
      (await server.call("POST", `/carts/${cart.id}/lock`, { token: ann, body: { checkout_ref: "scr" } })).body;

    const health = await owner.rpc("get_store_health", { p_store_id: STORE_A });
    expect(health.error).toBeNull();
    expect(health.data[0]).toMatchObject({ store_id: STORE_A, locks_taken: expect.any(Number) });
    expect((await owner.rpc("list_store_alerts", { p_store_id: STORE_A })).data).toEqual([]);
    const refused = await staff.rpc("list_store_alerts", { p_store_id: STORE_A });
    expect([refused.status, refused.error?.message]).toEqual([403, "forbidden"]);

    const device = server.client(await server.token(STAFF_A2));
    await device.realtime.setAuth();
    const received: any[] = [];
    // Joined, and told the database's changes flow (replication_ready), as on a project.
    await new Promise<void>((resolve) => {
      device.channel(`cart:${cart.id}`, { config: { private: true, broadcast: { replication_ready: true } } })
        .on("broadcast", { event: "cart_updated" }, ({ payload }) => received.push(payload))
        .on("system", {}, (message: { status?: string }) => message.status === "ok" && resolve())
        .subscribe();
    });
    const released = await owner.rpc("release_cart_lock", { p_cart_id: cart.id, p_reason: "card reader died" });
    expect(released.data).toMatchObject({ status: "active", version: locked.version + 1, lock: null });
    const deadline = Date.now() + 30_000;
    while (!received.some((p) => p.version === locked.version + 1)) {
      if (Date.now() > deadline) throw new Error("the release was not broadcast");
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(received.find((p) => p.version === locked.version + 1)).toMatchObject({ status: "active", lock: null });
  });
});
