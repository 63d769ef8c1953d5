// Upgrade-safe storage: what @onecart/client 0.1 stored (one record, buster
// "onecart-1", pending actions inside as paused mutations) is read by this
// library, and every pending action in it lands exactly once.
import { readFileSync } from "node:fs";
import { beforeAll, expect, it } from "vitest";
import { memoryStorage, OUTBOX_FORMAT, SNAPSHOT_FORMAT } from "../../client/src/index.ts";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { CUSTOMER_A, LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { createNetwork } from "./network.ts";
import { startDevice, until } from "./device.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  ann = await server.token(STAFF_A1);
});

/** Taken with the 0.1 library: a till offline with four taps on a cart and a queue join pending. */
const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/stored-onecart-1.json", import.meta.url), "utf8"),
) as { cartId: string; itemId: string; storageKey: string; storage: Record<string, string> };

/**
 * The fixture's server state made again in this database (a cart with one
 * confirmed line), and the stored record pointed at it: ids are the server's.
 */
async function restoredTill(device: string) {
  const { onecart } = startDevice(server, ann);
  const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: device });
  const confirmed = await cart.addItem(PRODUCT_A[0], { options: { note: "confirmed" } }).done;
  await onecart.destroy();
  const map = new Map<string, string>();
  for (const [key, text] of Object.entries(fixture.storage)) {
    map.set(
      key,
      text.replaceAll(fixture.cartId, cart.id).replaceAll(fixture.itemId, confirmed.items[0].id)
        .replaceAll("fixture-till", device),
    );
  }
  return { cartId: cart.id, map };
}

function storedActions(): Array<{ key: string; kind: string }> {
  const record = JSON.parse(fixture.storage[fixture.storageKey]);
  return record.clientState.mutations.map((m: any) => ({ key: m.state.variables.key, kind: m.state.variables.kind }));
}

it("the 0.1 record is replayed by this library: each of its pending actions lands exactly once, in order", async () => {
  expect(JSON.parse(fixture.storage[fixture.storageKey]).buster).toBe("onecart-1");
  const { cartId, map } = await restoredTill("upgraded-till");
  const network = createNetwork();
  network.setDown(true);
  // Its taps are a few days old by the time this runs: the age limit is not what is tested here.
  const till = startDevice(server, ann, {
    storage: memoryStorage(map),
    storageKey: fixture.storageKey,
    network,
    maxActionAgeMs: Number.POSITIVE_INFINITY,
  });
  await till.onecart.ready;
  // Before any answer: the restored snapshot and all five actions, in the order they were made.
  expect(till.onecart.pending().map((p) => ({ key: p.key, kind: p.kind }))).toEqual(storedActions());
  const cart = till.onecart.cart(cartId);
  expect(cart.getState().confirmed?.version).toBe(2);
  expect(cart.getState().cart?.items.map((i) => [i.options.note, i.quantity])).toEqual([
    ["confirmed", 3],
    ["offline-1", 2],
  ]);

  network.setDown(false);
  await until(() => till.onecart.pendingCount() === 0, "the five stored actions have been sent");
  const history = await db.sql<{ kind: string; note: string | null; quantity: number | null }[]>`
    select e.kind, coalesce(e.data -> 'options' ->> 'note', i.options ->> 'note') as note,
           (e.data ->> 'quantity')::int as quantity
      from pos.cart_events e left join pos.cart_items i on i.id = (e.data ->> 'item_id')::uuid
     where e.cart_id = ${cartId} order by e.version`;
  expect(history.slice(2).map((e) => e.kind)).toEqual([
    "item_added",
    "item_added",
    "item_quantity_set",
    "item_removed",
  ]);
  expect(history[2]).toMatchObject({ note: "offline-1", quantity: 2 });
  expect(history[3]).toMatchObject({ note: "offline-2" });
  expect(history[4]).toMatchObject({ quantity: 3 });
  const queue = await db.as(STAFF_A1).rpc("get_queue", { p_location_id: LOCATION_A1 });
  expect(queue.entries.map((e: any) => e.customer_id)).toEqual([CUSTOMER_A[0]]);
  expect(till.onecart.cart(cartId).getState().rejected).toEqual([]);
  await assertInvariants(db.sql);

  // What is stored now is this library's format, with no action left in it.
  await till.onecart.flush();
  const stored = JSON.parse(map.get(fixture.storageKey)!);
  expect({ format: stored.format, mutations: stored.clientState.mutations }).toEqual({
    format: SNAPSHOT_FORMAT,
    mutations: [],
  });
  expect([...map.keys()].filter((k) => k.includes("/action/"))).toEqual([]);
  expect(OUTBOX_FORMAT).toBe(2);

  // And a restart sends nothing again.
  const again = startDevice(server, ann, { storage: memoryStorage(map), storageKey: fixture.storageKey });
  await again.onecart.ready;
  expect(again.onecart.pending()).toEqual([]);
  await db.sql`update pos.queue_entries set status = 'left' where customer_id = ${CUSTOMER_A[0]}`;
});

it("a record of a newer format than this library knows is left as it is, not overwritten", async () => {
  const newer = JSON.stringify({ format: SNAPSHOT_FORMAT + 1, buster: "onecart", clientState: { queries: [] } });
  const map = new Map([["till-9", newer]]);
  const { onecart } = startDevice(server, ann, { storage: memoryStorage(map), storageKey: "till-9" });
  const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "newer-format" });
  await cart.addItem(PRODUCT_A[1]).done;
  await onecart.flush();
  expect(map.get("till-9")).toBe(newer);
});

it("when the migrated actions cannot be written (a full store), the 0.1 record is kept as it is for the next start", async () => {
  const { cartId, map } = await restoredTill("full-store-till");
  const inner = memoryStorage(map);
  let full = true;
  const storage = {
    ...inner,
    setItem: (key: string, value: string) => {
      if (full && key.includes("/action/")) {
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      }
      return inner.setItem(key, value);
    },
  };
  const errors: unknown[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => void errors.push(args);
  try {
    const till = startDevice(server, ann, { storage, storageKey: fixture.storageKey });
    await till.onecart.ready;
    // Reads and their snapshots go on; the record that still holds the actions is not rewritten.
    await till.onecart.cart(cartId).refetch();
    await till.onecart.flush();
    await till.onecart.destroy();
  } finally {
    console.error = error;
  }
  expect(errors.length).toBeGreaterThan(0);
  const stored = JSON.parse(map.get(fixture.storageKey)!);
  expect(stored.clientState.mutations.map((m: any) => m.state.variables.key)).toEqual(
    storedActions().map((a) => a.key),
  );

  // Room again: the next start migrates them.
  full = false;
  const network = createNetwork();
  network.setDown(true);
  const again = startDevice(server, ann, {
    storage,
    storageKey: fixture.storageKey,
    network,
    maxActionAgeMs: Number.POSITIVE_INFINITY,
  });
  await again.onecart.ready;
  expect(again.onecart.pending().map((p) => ({ key: p.key, kind: p.kind }))).toEqual(storedActions());
  await again.onecart.destroy();
});
