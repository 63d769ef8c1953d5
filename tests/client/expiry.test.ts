// An age limit on queued actions, as POS products bound offline work: an
// action older than maxActionAgeMs is not sent by itself but reported as
// rejected with `expired`, kept in storage, and sent or dropped by the app.
import { beforeAll, expect, it } from "vitest";
import { memoryStorage, type Rejection } from "../../client/src/index.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { startDevice, until } from "./device.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  ann = await server.token(STAFF_A1);
});

async function tapsOn(cartId: string): Promise<string[]> {
  const rows = await db.sql<{ tap: string }[]>`
    select data -> 'options' ->> 'tap' as tap from pos.cart_events
     where cart_id = ${cartId} and kind = 'item_added' order by version`;
  return rows.map((r) => r.tap);
}

const actionRecords = (map: Map<string, string>) => [...map.keys()].filter((k) => k.includes("/action/"));

it("an action older than maxActionAgeMs is reported as expired, kept, and sent or discarded by the app", async () => {
  const map = new Map<string, string>();
  const options = { storage: memoryStorage(map), storageKey: "till", maxActionAgeMs: 1_000 };
  const first = startDevice(server, ann, options);
  const cart = await first.onecart.openCart({ locationId: LOCATION_A1, deviceId: "expiry" });
  first.network.setDown(true);
  const kept = cart.addItem(PRODUCT_A[0], { options: { tap: "kept" } });
  const dropped = cart.addItem(PRODUCT_A[1], { options: { tap: "dropped" } });
  await until(() => !first.onecart.isOnline(), "the device knows it is offline");
  // Older than the limit by the time the network returns.
  await new Promise((r) => setTimeout(r, 1_200));
  const rejected: Rejection[] = [];
  first.onecart.onRejected((r) => rejected.push(r));
  first.network.setDown(false);

  for (const handle of [kept, dropped]) {
    expect(await handle.done.catch((e) => e)).toMatchObject({ name: "OnecartError", code: "expired", status: 0 });
  }
  expect(rejected.map((r) => [r.key, r.error.code])).toEqual([[kept.key, "expired"], [dropped.key, "expired"]]);
  expect(cart.getState().rejected.map((r) => r.key)).toEqual([kept.key, dropped.key]);
  expect(first.onecart.expiredActions().map((a) => a.key)).toEqual([kept.key, dropped.key]);
  expect(await tapsOn(cart.id)).toEqual([]);
  await first.onecart.flush();
  expect(actionRecords(map)).toHaveLength(2);

  // Closed before deciding: the next start reports both again, never drops them.
  await first.onecart.destroy();
  const second = startDevice(server, ann, options);
  const again: string[] = [];
  second.onecart.onRejected((r) => again.push(r.error.code === "expired" ? r.key : r.error.code));
  await second.onecart.ready;
  await until(() => again.length === 2, "both are reported again after the restart");
  expect(again).toEqual([kept.key, dropped.key]);
  // A store opened after the restart shows them too, for the app to ask about.
  expect(second.onecart.cart(cart.id).getState().rejected.map((r) => [r.key, r.error.code])).toEqual([
    [kept.key, "expired"],
    [dropped.key, "expired"],
  ]);

  // The app sends one anyway, with its own key, and drops the other.
  const resent = second.onecart.resend(kept.key);
  expect(resent.key).toBe(kept.key);
  await resent.done;
  await second.onecart.discard(dropped.key);
  expect(second.onecart.expiredActions()).toEqual([]);
  expect(second.onecart.cart(cart.id).getState().rejected).toEqual([]);
  expect(await tapsOn(cart.id)).toEqual(["kept"]);
  await second.onecart.flush();
  expect(actionRecords(map)).toEqual([]);
  expect(() => second.onecart.resend(dropped.key)).toThrow(TypeError);
});

it("the limit defaults to 24 hours", async () => {
  const map = new Map<string, string>();
  const first = startDevice(server, ann, { storage: memoryStorage(map), storageKey: "day" });
  const cart = await first.onecart.openCart({ locationId: LOCATION_A1, deviceId: "expiry-default" });
  first.network.setDown(true);
  cart.addItem(PRODUCT_A[2], { options: { tap: "day-old" } });
  cart.addItem(PRODUCT_A[3], { options: { tap: "fresh" } });
  await until(() => !first.onecart.isOnline(), "the device knows it is offline");
  await first.onecart.destroy();
  // The first tap was made 24 h and a minute ago (its stored time moved back), the second just now.
  const [old] = actionRecords(map).map((k) => [k, JSON.parse(map.get(k)!)] as const)
    .filter(([, r]) => r.action.options.tap === "day-old");
  old[1].action.createdAt = Date.now() - 24 * 60 * 60 * 1000 - 60_000;
  map.set(old[0], JSON.stringify(old[1]));

  const second = startDevice(server, ann, { storage: memoryStorage(map), storageKey: "day" });
  const codes: string[] = [];
  second.onecart.onRejected((r) => codes.push(r.error.code));
  await second.onecart.ready;
  await until(() => second.onecart.pendingCount() === 0, "the stored actions are settled");
  expect(codes).toEqual(["expired"]);
  expect(await tapsOn(cart.id)).toEqual(["fresh"]);
});
