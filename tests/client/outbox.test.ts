// Many writers on one outbox: two windows of a web till (or two processes of a
// desktop app) share one storage and key. Neither loses nor doubles the
// other's pending actions, and one that stays takes over what one that went
// left behind.
import { beforeAll, describe, expect, it } from "vitest";
import { type KeyValueStorage, memoryStorage } from "../../client/src/index.ts";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { CUSTOMER_A, LOCATION_A1, LOCATION_A2, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { startDevice, until } from "./device.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  ann = await server.token(STAFF_A1);
});

/** The taps that landed on a cart, by the `tap` option each carried, in the server's order. */
async function tapsOn(cartId: string): Promise<string[]> {
  const rows = await db.sql<{ tap: string }[]>`
    select data -> 'options' ->> 'tap' as tap from pos.cart_events
     where cart_id = ${cartId} and kind = 'item_added' order by version`;
  return rows.map((r) => r.tap);
}

/** A store that cannot list its keys (the optional `keys` left out): the outbox keeps an index record. */
function withoutKeys(map = new Map<string, string>()): KeyValueStorage {
  const { keys: _, ...rest } = memoryStorage(map);
  return rest;
}

const modes = [
  { name: "Web Locks", outbox: { coordination: "web-locks" as const }, store: memoryStorage },
  { name: "a lease in the storage", outbox: { coordination: "lease" as const, leaseMs: 1_000 }, store: memoryStorage },
  { name: "Web Locks over a store without keys()", outbox: { coordination: "web-locks" as const }, store: withoutKeys },
];

describe.each(modes)("one storage and key, coordinated by $name", ({ name, outbox, store }) => {
  it("two clients offline, both destroyed: a third replays every tap of both exactly once", async () => {
    const storage = store();
    const device = `two-windows-${name}`;
    const a = startDevice(server, ann, { storage, storageKey: "till", outbox });
    const b = startDevice(server, ann, { storage, storageKey: "till", outbox });
    const cartA = await a.onecart.openCart({ locationId: LOCATION_A1, deviceId: device });
    const cartB = await b.onecart.openCart({ locationId: LOCATION_A1, deviceId: device });
    expect(cartB.id).toBe(cartA.id);

    a.network.setDown(true);
    b.network.setDown(true);
    const expected: string[] = [];
    for (let i = 0; i < 5; i++) {
      // Taps in both windows, interleaved, each writing to the one storage.
      cartA.addItem(PRODUCT_A[i % 5], { options: { tap: `a${i}` } });
      cartB.addItem(PRODUCT_A[(i + 1) % 5], { options: { tap: `b${i}` } });
      expected.push(`a${i}`, `b${i}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    b.onecart.queue(LOCATION_A2).join(CUSTOMER_A[0]);
    await until(() => !a.onecart.isOnline() && !b.onecart.isOnline(), "both windows know they are offline");
    await Promise.all([a.onecart.destroy(), b.onecart.destroy()]);

    const third = startDevice(server, ann, { storage, storageKey: "till", outbox });
    await third.onecart.ready;
    await until(() => third.onecart.pendingCount() === 0, "every stored action has been sent");
    await third.onecart.flush();

    expect((await tapsOn(cartA.id)).sort()).toEqual(expected.sort());
    const queue = await db.as(STAFF_A1).rpc("get_queue", { p_location_id: LOCATION_A2 });
    expect(queue.entries.filter((e: any) => e.customer_id === CUSTOMER_A[0])).toHaveLength(1);
    await assertInvariants(db.sql);
    // Nothing is left to replay: a fourth client sends nothing.
    const fourth = startDevice(server, ann, { storage, storageKey: "till", outbox });
    await fourth.onecart.ready;
    expect(fourth.onecart.pending()).toEqual([]);
    await db.sql`update pos.queue_entries set status = 'left' where customer_id = ${CUSTOMER_A[0]}`;
  });

  it("a client that stays takes over the pending taps of one that went", async () => {
    const storage = store();
    const device = `takeover-${name}`;
    const stays = startDevice(server, ann, { storage, storageKey: "till", outbox });
    const goes = startDevice(server, ann, { storage, storageKey: "till", outbox });
    const cart = await stays.onecart.openCart({ locationId: LOCATION_A1, deviceId: device });
    const other = await goes.onecart.openCart({ locationId: LOCATION_A1, deviceId: device });

    goes.network.setDown(true);
    const left = [0, 1, 2].map((i) => other.addItem(PRODUCT_A[i], { options: { tap: `went${i}` } }).key);
    await until(() => !goes.onecart.isOnline(), "the window that goes knows it is offline");
    await goes.onecart.destroy();

    await cart.addItem(PRODUCT_A[3], { options: { tap: "stayed" } }).done;
    await until(
      async () => (await tapsOn(cart.id)).length === 4,
      "the window that stayed has sent the taps of the one that went",
    );
    expect((await tapsOn(cart.id)).sort()).toEqual(["stayed", "went0", "went1", "went2"]);
    await until(() => stays.onecart.pendingCount() === 0, "nothing is pending");
    // Taken over once: the staying window holds none of them still, and a new one finds none.
    expect(stays.onecart.pending().filter((p) => left.includes(p.key))).toEqual([]);
    await stays.onecart.flush();
    const next = startDevice(server, ann, { storage, storageKey: "till", outbox });
    await next.onecart.ready;
    expect(next.onecart.pending()).toEqual([]);
    expect(await tapsOn(cart.id)).toHaveLength(4);
  });
});
