// Offline: taps are kept while the network is down, in storage the app
// chose, and replayed with their own keys, in order, when it returns, also
// after the app restarts. An action that can no longer apply is reported.
import { beforeAll, expect, it } from "vitest";
import { type Action, memoryStorage } from "../../client/src/index.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1, STAFF_A2 } from "../helpers/fixture.ts";
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

it(
  "a device offline for 30 s with 20 queued actions, then restarted from its storage: all 20 apply once, in order",
  async () => {
    const saved = new Map<string, string>();
    const first = startDevice(server, ann, { storage: memoryStorage(saved) });
    const cart = await first.onecart.openCart({ locationId: LOCATION_A1, deviceId: "offline-30s" });
    await cart.addItem(PRODUCT_A[0], { options: { tap: "before" } }).done;

    first.network.setDown(true);
    const taps: Array<{ kind: string; tap: string; quantity?: number }> = [];
    for (let i = 0; i < 20; i++) {
      if (i % 5 === 3) {
        cart.setQuantity({ productId: PRODUCT_A[(i - 1) % 5], options: { tap: `t${i - 1}` } }, 4);
        taps.push({ kind: "item_quantity_set", tap: `t${i - 1}`, quantity: 4 });
      } else if (i % 5 === 4) {
        cart.removeItem({ productId: PRODUCT_A[(i - 3) % 5], options: { tap: `t${i - 3}` } });
        taps.push({ kind: "item_removed", tap: `t${i - 3}` });
      } else {
        cart.addItem(PRODUCT_A[i % 5], { quantity: 2, options: { tap: `t${i}` } });
        taps.push({ kind: "item_added", tap: `t${i}`, quantity: 2 });
      }
    }
    // The screen shows all 20 on top of what the server confirmed, waiting for the network.
    await until(() => !first.onecart.isOnline(), "the device knows it is offline");
    const waiting = cart.getState();
    expect(waiting.pending.map((p) => p.status)).toEqual(
      Array(20).fill("offline").map((s, i) => (i === 0 ? s : "queued")),
    );
    expect(waiting.confirmed?.version).toBe(2);
    expect(waiting.cart?.items.map((i) => i.options.tap)).toEqual([
      "before",
      "t0",
      "t2",
      "t5",
      "t7",
      "t10",
      "t12",
      "t15",
      "t17",
    ]);

    await new Promise((r) => setTimeout(r, 30_000));
    // The app is closed while still offline, and opened again on a network that works but loses answers.
    await first.onecart.destroy();
    const network = createNetwork();
    network.loseNextAnswers(3);
    network.setDown(true);
    const second = startDevice(server, ann, { storage: memoryStorage(saved), network });
    await second.onecart.ready;
    // Opened again while the network is still down, the app finds the customer's cart where it left it.
    const restored = await second.onecart.openCart({ locationId: LOCATION_A1, deviceId: "offline-30s" });
    expect(restored.id).toBe(cart.id);
    expect(restored.getState().cart?.items.map((i) => i.options.tap)).toEqual(
      waiting.cart?.items.map((i) => i.options.tap),
    );
    network.setDown(false);
    expect(second.onecart.pending().map((p) => (p.action as Action).key)).toEqual(waiting.pending.map((p) => p.key));
    await until(() => second.onecart.pending().length === 0, "the 20 actions have applied", 60_000);

    const history = await db.as(STAFF_A1).rpc("get_cart_history", { p_cart_id: cart.id }) as any[];
    const tapOf = new Map<string, string>();
    const applied = history.slice(2).map((e) => {
      if (e.kind === "item_added") tapOf.set(e.data.item_id, e.data.options.tap);
      const tap = tapOf.get(e.data.item_id)!;
      return e.kind === "item_removed" ? { kind: e.kind, tap } : { kind: e.kind, tap, quantity: e.data.quantity };
    });
    expect(applied).toEqual(taps);
    expect(network.stats.lost).toBe(3);
    expect(restored.getState().rejected).toEqual([]);
    const final = await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: cart.id });
    await until(() => restored.getState().confirmed?.version === final.version, "the device holds the final cart");
    expect(restored.getState().cart).toEqual(final);
  },
  120_000,
);

it("an action queued while another device locks the cart is reported as cart_locked, and the screen rolls back", async () => {
  const { network, onecart } = startDevice(server, ann);
  const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "locked-meanwhile" });
  cart.live();
  // The first tap's answer is lost; its retry replays it.
  network.loseNextAnswers(1);
  await cart.addItem(PRODUCT_A[0]).done;
  const rejections: string[] = [];
  onecart.onRejected((r) => rejections.push(r.error.code));

  network.setDown(true);
  const queued = cart.addItem(PRODUCT_A[1], { display: { name: "Hot Towel Shave", unitPriceCents: 1200 } });
  expect(cart.getState().cart?.items.map((i) => [i.product_id, i.quantity])).toEqual([[PRODUCT_A[0], 1], [
    PRODUCT_A[1],
    1,
  ]]);
  expect(cart.getState().cart?.subtotal_cents).toBe(cart.getState().confirmed!.subtotal_cents + 1200);

  // Meanwhile the counter's terminal takes the cart to payment.
  const locked = await server.call("POST", `/carts/${cart.id}/lock`, {
    token: await server.token(STAFF_A2),
    body: { checkout_ref: "terminal-2" },
  });
  expect(locked.status).toBe(200);
  network.setDown(false);

  const error = await queued.done.catch((e) => e);
  expect(error).toMatchObject({ name: "OnecartError", code: "cart_locked", status: 423 });
  expect(rejections).toEqual(["cart_locked"]);
  const final = await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: cart.id });
  expect(final).toMatchObject({ status: "locked", item_count: 1, lock: { checkout_ref: "terminal-2" } });
  await until(() => cart.getState().confirmed?.version === final.version, "the device holds the locked cart");
  const state = cart.getState();
  expect(state.pending).toEqual([]);
  expect(state.cart).toEqual(final);
  expect(state.rejected).toMatchObject([{ key: queued.key, error: { code: "cart_locked" } }]);
});
