// Live carts and queues through the library over real Realtime: other
// devices' changes arrive, a lost connection is followed by a fresh read, and
// only snapshots newer than the one held are applied.
import { beforeAll, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { CUSTOMER_A, LOCATION_A1, LOCATION_A2, PRODUCT_A, STAFF_A1, STAFF_A2 } from "../helpers/fixture.ts";
import { startDevice, until } from "./device.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;
let abe: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  ann = await server.token(STAFF_A1);
  abe = await server.token(STAFF_A2);
});

it("a cart followed live: other devices' changes arrive, and after the connection drops the cart is read again", async () => {
  const { network, onecart } = startDevice(server, ann);
  const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "live-cart" });
  const stop = cart.live();
  await until(() => cart.getState().live === "live", "the cart is live");
  const other = (path: string, body: unknown) => server.call("POST", `/carts/${cart.id}${path}`, { token: abe, body });

  await other("/items", { product_id: PRODUCT_A[0] });
  await until(() => cart.getState().confirmed?.version === 2, "the other device's add arrives");

  // The shop's network drops; the other device (on another link) goes on.
  network.setDown(true);
  await until(() => cart.getState().live !== "live", "the device sees the connection is gone");
  for (const product of PRODUCT_A.slice(1, 4)) await other("/items", { product_id: product });
  network.setDown(false);
  const final = await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: cart.id });
  await until(
    () => cart.getState().live === "live" && cart.getState().confirmed?.version === final.version,
    "the device is live again and has read what it missed",
  );
  expect(cart.getState().cart).toEqual(final);

  // Older or foreign snapshots change nothing; a skipped version is read again.
  onecart.receiveCart(cart.id, { ...final, version: final.version - 1, items: [] });
  onecart.receiveCart(cart.id, { ...final, id: LOCATION_A1, version: final.version + 5 });
  expect(cart.getState().confirmed).toEqual(final);
  const reads = network.sent.length;
  onecart.receiveCart(cart.id, { ...final, version: final.version + 2, extra: "ignored" });
  expect(cart.getState().confirmed?.version).toBe(final.version + 2);
  await until(() => network.sent.slice(reads).includes(`GET /functions/v1/carts/${cart.id}`), "the gap is read again");

  stop();
  await until(() => cart.getState().live === "off", "the cart is no longer followed");
});

it("a queue followed live: a join elsewhere shows, a call from this device shows, the hosted `id` key is ignored", async () => {
  const { onecart } = startDevice(server, ann);
  const queue = onecart.queue(LOCATION_A2);
  queue.live();
  await until(() => queue.getState().live === "live" && queue.getState().queue !== null, "the queue is live");
  expect(queue.getState().queue).toEqual({ location_id: LOCATION_A2, entries: [] });

  const joined = await server.call("POST", "/queue", {
    token: abe,
    body: { location_id: LOCATION_A2, customer_id: CUSTOMER_A[1] },
  });
  expect(joined.status).toBe(200);
  await until(() => queue.getState().queue?.entries.length === 1, "the join arrives");
  expect(queue.getState().queue?.entries[0]).toMatchObject({
    customer_id: CUSTOMER_A[1],
    status: "waiting",
    position: 1,
  });

  const called = await queue.callNext().done;
  expect(called).toMatchObject({ id: joined.body.entry.id, status: "serving" });
  await until(() => queue.getState().queue?.entries[0]?.status === "serving", "the call shows");
  expect(await queue.callNext().done).toBeNull();

  queue.receive({ id: "message-id", location_id: LOCATION_A2, entries: [] });
  expect(queue.getState().queue).toEqual({ location_id: LOCATION_A2, entries: [] });
});
