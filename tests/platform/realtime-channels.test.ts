// No client can put a message on onecart's topics, on a private or a public
// channel of the same name, and a private subscriber never receives a message
// sent on a public channel. The attack of issue 9: join `cart:<id>` and send
// `cart_updated` with version 999999, which a device that shows only newer
// versions would then hold on to, ignoring every real update.
//
// Two servers over one database: the local stack as onecart requires a project
// to be (public channels refused, like "Allow public access" off), and one that
// allows public channels as a hosted project does by default, where the public
// and private sides must still stay apart.
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { type Device, joinChannel, pause, SHORT_REALTIME_BACKOFFS, until } from "../helpers/realtime.ts";
import { CUSTOMER_A, LOCATION_A1, PRODUCT_A, STAFF_A1, STAFF_A2, STAFF_B1 } from "../helpers/fixture.ts";

let db: TestDatabase;
let privateOnly: TestServer;
let publicAllowed: TestServer;

beforeAll(async () => {
  db = await freshDatabase();
  [privateOnly, publicAllowed] = await Promise.all([
    startTestServer(db, { env: SHORT_REALTIME_BACKOFFS }),
    startTestServer(db, { env: { ONECART_REALTIME_ALLOW_PUBLIC: "1", ...SHORT_REALTIME_BACKOFFS } }),
  ]);
});

const FORGED_CART = { version: 999999, forged: true, items: [], status: "active" };
const FORGED_QUEUE = { forged: true, location_id: LOCATION_A1, entries: [] };

async function attackers(server: TestServer): Promise<Array<[string, string]>> {
  return [
    ["the anon key", server.anonKey],
    ["store B's staff", await server.token(STAFF_B1)],
    ["store A's own staff", await server.token(STAFF_A2)],
  ];
}

/** Joins as `token` and sends the forged messages on both topics; returns the join statuses. */
async function attack(server: TestServer, token: string, cartId: string, isPrivate: boolean) {
  const client = server.client(token);
  const cart = await joinChannel(client, `cart:${cartId}`, "cart_updated", { private: isPrivate });
  const queue = await joinChannel(client, `queue:${LOCATION_A1}`, "queue_updated", { private: isPrivate });
  // Over the socket when the join was accepted, else over HTTP, as realtime-js
  // itself falls back (the local stack serves no broadcast endpoint: 404).
  const send = (device: Device, event: string, payload: object) =>
    device.status === "SUBSCRIBED"
      ? device.channel.send({ type: "broadcast", event, payload })
      : device.channel.httpSend(event, payload).then(() => "ok", (error: Error) => error.message);
  const sent = await Promise.all([send(cart, "cart_updated", FORGED_CART), send(queue, "queue_updated", FORGED_QUEUE)]);
  return { cart, queue, sent };
}

function forged(device: Device) {
  return device.received.filter((m) => m.forged);
}

describe("a project with public channels off, as onecart requires", () => {
  it("refuses every injection on public and private channels; private subscribers get only real changes", async () => {
    const server = privateOnly;
    const staff = db.as(STAFF_A1);
    const cart = await staff.rpc("get_or_create_cart", {
      p_location_id: LOCATION_A1,
      p_device_id: "inject-private-only",
    });
    const ann = server.client(await server.token(STAFF_A1));
    const cartDevice = await joinChannel(ann, `cart:${cart.id}`, "cart_updated", { private: true });
    const board = await joinChannel(ann, `queue:${LOCATION_A1}`, "queue_updated", { private: true });
    expect([cartDevice.status, board.status]).toEqual(["SUBSCRIBED", "SUBSCRIBED"]);

    for (const [who, token] of await attackers(server)) {
      const onPublic = await attack(server, token, cart.id, false);
      expect([who, onPublic.cart.status, onPublic.queue.status]).toEqual([who, "CHANNEL_ERROR", "CHANNEL_ERROR"]);
      expect(onPublic.cart.errors.join()).toContain("PrivateOnly");

      const onPrivate = await attack(server, token, cart.id, true);
      // Store A's staff may read its own topics, never send on them.
      const joins = who === "store A's own staff" ? "SUBSCRIBED" : "CHANNEL_ERROR";
      expect([who, onPrivate.cart.status, onPrivate.queue.status]).toEqual([who, joins, joins]);
      expect(forged(onPrivate.cart)).toEqual([]);
    }

    await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] });
    await staff.rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[1] });
    await until(() => cartDevice.received.length > 0 && board.received.length > 0, "the real changes", 10_000);
    await pause(300);
    // The cart's creation (version 1) was sent before the device joined, but may be
    // decoded from the WAL after the join, and then delivered: it is real, not forged.
    expect(cartDevice.received.map((m) => m.version).filter((v) => v !== 1)).toEqual([2]);
    expect(forged(board)).toEqual([]);
    expect(board.received).toHaveLength(1);
  });
});

describe("a project that allows public channels (the hosted default)", () => {
  it("delivers a public message to public subscribers only; private subscribers never see it, nor the reverse", async () => {
    const server = publicAllowed;
    const staff = db.as(STAFF_A1);
    const cart = await staff.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "inject-public" });
    const ann = server.client(await server.token(STAFF_A1));
    const cartDevice = await joinChannel(ann, `cart:${cart.id}`, "cart_updated", { private: true });
    const board = await joinChannel(ann, `queue:${LOCATION_A1}`, "queue_updated", { private: true });
    // Someone listening on the public channel of the same names: proves the
    // forged messages really went out, so their absence on the private side means something.
    const watcher = server.client(server.anonKey);
    const publicCart = await joinChannel(watcher, `cart:${cart.id}`, "cart_updated", { private: false });
    const publicBoard = await joinChannel(watcher, `queue:${LOCATION_A1}`, "queue_updated", { private: false });
    expect([cartDevice.status, board.status, publicCart.status, publicBoard.status]).toEqual(
      Array(4).fill("SUBSCRIBED"),
    );

    const people = await attackers(server);
    for (const [who, token] of people) {
      const onPublic = await attack(server, token, cart.id, false);
      expect([who, onPublic.cart.status]).toEqual([who, "SUBSCRIBED"]);
      const onPrivate = await attack(server, token, cart.id, true);
      expect(forged(onPrivate.cart)).toEqual([]);
    }
    await until(
      () => forged(publicCart).length === people.length && forged(publicBoard).length === people.length,
      "the forged messages on the public side",
      10_000,
    );

    await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] });
    await staff.rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[2] });
    await until(() => cartDevice.received.length > 0 && board.received.length > 0, "the real changes", 10_000);
    await pause(300);
    // The cart's creation (version 1) was sent before the device joined, but may be
    // decoded from the WAL after the join, and then delivered: it is real, not forged.
    expect(cartDevice.received.map((m) => m.version).filter((v) => v !== 1)).toEqual([2]);
    expect(forged(board)).toEqual([]);
    // The database sends privately: nothing of it reaches the public channels.
    expect(publicCart.received.filter((m) => !m.forged)).toEqual([]);
    expect(publicBoard.received.filter((m) => !m.forged)).toEqual([]);
  });
});
