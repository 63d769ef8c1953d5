// Exactly-once taps through the library: a retry after a lost answer reuses
// the action's key, so the server replays the first answer.
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, LOCATION_A2, MISSING, PRODUCT_A, STAFF_A1, STAFF_A2 } from "../helpers/fixture.ts";
import { OnecartError } from "../../client/src/index.ts";
import { startDevice, until } from "./device.ts";

let db: TestDatabase;
let server: TestServer;
let token: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  token = await server.token(STAFF_A1);
});

describe("a lost answer", () => {
  it("the answer of a committed add is lost: the retry returns the first answer and the cart holds the item once", async () => {
    const { network, onecart } = startDevice(server, token);
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "lost-answer" });
    cart.live();
    await until(() => cart.getState().live === "live", "the cart is live");
    // What the screen showed at every change: the broadcast of the committed add
    // arrives before the retry's answer, and must not show the item twice.
    const shown: number[] = [];
    cart.subscribe(() => shown.push(cart.getState().cart?.item_count ?? -1));
    network.loseNextAnswers(1);
    const added = await cart.addItem(PRODUCT_A[0], { quantity: 2 }).done;
    expect(Math.max(...shown)).toBe(2);

    expect(network.stats.lost).toBe(1);
    const history = await db.sql`select version, kind from pos.cart_events where cart_id = ${cart.id} order by version`;
    expect(history.map((e) => e.kind)).toEqual(["created", "item_added"]);
    // The retry's answer is the first one, replayed: version 2, the item once.
    expect(added).toMatchObject({ version: 2, item_count: 2, items: [{ product_id: PRODUCT_A[0], quantity: 2 }] });
    const [row] = await db.sql`select sum(quantity)::int as n from pos.cart_items where cart_id = ${cart.id}`;
    expect(row.n).toBe(2);
    expect(cart.getState()).toMatchObject({
      pending: [],
      rejected: [],
      cart: { version: 2 },
      confirmed: { version: 2 },
    });
  });
});

function answer(status: number, code: string, retryAfter?: number): () => Response {
  return () =>
    new Response(JSON.stringify({ error: { code, message: `injected ${code}`, details: null } }), {
      status,
      headers: {
        "content-type": "application/json",
        ...(retryAfter !== undefined ? { "retry-after": String(retryAfter) } : {}),
      },
    });
}

describe("retries", () => {
  it("busy and unavailable are retried with the same key, no sooner than Retry-After; the item lands once", async () => {
    const { network, onecart } = startDevice(server, token);
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "busy" });
    network.answerNext(1, answer(503, "busy", 1));
    network.answerNext(1, answer(503, "unavailable", 0));
    network.loseNextAnswers(1);
    const started = Date.now();
    const added = await cart.addItem(PRODUCT_A[1]).done;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(network.stats.answered).toBe(2);
    expect(added).toMatchObject({ version: 2, item_count: 1 });
    const [row] = await db
      .sql`select count(*)::int as n from pos.cart_events where cart_id = ${cart.id} and kind = 'item_added'`;
    expect(row.n).toBe(1);
  });

  it("a 4xx is never retried: the action is rejected with the contract's code, status and details", async () => {
    const { network, onecart } = startDevice(server, token);
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "bad-input" });
    const rejections: string[] = [];
    onecart.onRejected((r) => rejections.push(r.error.code));
    const error = await cart.addItem(PRODUCT_A[0], { quantity: 1000 }).done.catch((e) => e);
    expect(error).toBeInstanceOf(OnecartError);
    expect(error).toMatchObject({ code: "invalid_input", status: 400 });
    expect(network.sent.filter((r) => r.endsWith("/items"))).toEqual([`POST /functions/v1/carts/${cart.id}/items`]);
    await until(() => cart.getState().rejected.length === 1, "the rejection shows");
    expect(rejections).toEqual(["invalid_input"]);
    expect(cart.getState()).toMatchObject({ pending: [], cart: { version: 1, items: [] } });
  });

  it("gives up within the time bound and tells the app, with the last code", async () => {
    const { network, onecart } = startDevice(server, token, {
      retry: { maxElapsedMs: 600, initialDelayMs: 50, maxDelayMs: 100 },
    });
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "gives-up" });
    network.answerNext(1_000, answer(503, "busy", 0));
    const rejected = new Promise((resolve) => onecart.onRejected(resolve));
    const error = await cart.addItem(PRODUCT_A[0]).done.catch((e) => e);
    expect(error).toMatchObject({ code: "busy", status: 503 });
    expect(await rejected).toMatchObject({ error: { code: "busy" } });
    expect(network.stats.answered).toBeGreaterThan(2);
  });
});

describe("typed calls", () => {
  for (const via of ["functions", "rpc"] as const) {
    it(`through ${via}: results and errors carry the contract's shapes and codes`, async () => {
      const { onecart } = startDevice(server, token, { via });
      const cart = await onecart.api.getOrCreateCart({ location_id: LOCATION_A1, device_id: `typed-${via}` });
      expect(cart).toMatchObject({ status: "active", version: 1, items: [] });
      const added = await onecart.api.addItem({ cart_id: cart.id, product_id: PRODUCT_A[2], quantity: 2 }, {
        idempotencyKey: `typed-${via}-1`,
      });
      expect(
        await onecart.api.addItem({ cart_id: cart.id, product_id: PRODUCT_A[2], quantity: 2 }, {
          idempotencyKey: `typed-${via}-1`,
        }),
      ).toEqual(added);
      const stale = await onecart.api.removeItem({ cart_id: cart.id, item_id: added.items[0].id, expected_version: 1 })
        .catch((e) => e);
      expect(stale).toMatchObject({ code: "version_conflict", status: 409, details: { current_version: 2 } });
      const missing = await onecart.api.getCart({ cart_id: MISSING }).catch((e) => e);
      expect(missing).toMatchObject({ name: "OnecartError", code: "not_found", status: 404 });
      const reused = await onecart.api.addItem({ cart_id: cart.id, product_id: PRODUCT_A[3] }, {
        idempotencyKey: `typed-${via}-1`,
      }).catch((e) => e);
      expect(reused).toMatchObject({ code: "idempotency_key_reused", status: 422 });
      const history = await onecart.api.getCartHistory({ cart_id: cart.id });
      expect(history.map((e) => e.kind)).toEqual(["created", "item_added"]);
      expect((await onecart.api.listOpenCarts({ location_id: LOCATION_A1 })).map((c) => c.id)).toContain(cart.id);
      const queue = await onecart.api.getQueue({ location_id: LOCATION_A2 });
      expect(queue).toMatchObject({ location_id: LOCATION_A2 });
      expect(await onecart.api.callNext({ location_id: LOCATION_A2 })).toBeNull();
    });
  }
});

describe("checkout", () => {
  it("locks after the pending taps, swaps the ref for the payment's id, completes with the paid total", async () => {
    const { network, onecart } = startDevice(server, token);
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "checkout" });
    cart.addItem(PRODUCT_A[0]);
    cart.addItem(PRODUCT_A[1], { quantity: 2 });
    network.loseNextAnswers(2);
    const done = await cart.checkout({
      pay: async ({ totalCents, cart: locked }) => {
        expect(locked.status).toBe("locked");
        expect(locked.items.map((i) => i.quantity)).toEqual([1, 2]);
        return { paymentId: "pay_123", paidTotalCents: totalCents };
      },
    });
    expect(done).toMatchObject({ status: "checked_out", item_count: 3 });
    const [row] = await db.sql`select checkout_ref, paid_total_cents::int as paid from pos.carts where id = ${cart.id}`;
    expect(row).toEqual({ checkout_ref: "pay_123", paid: done.subtotal_cents });
    const kinds = (await onecart.getCartHistory(cart.id)).map((e) => e.kind);
    expect(kinds).toEqual(["created", "item_added", "item_added", "locked", "lock_updated", "checked_out"]);
  });

  it("gives the cart back when the payment fails", async () => {
    const { onecart } = startDevice(server, token);
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "checkout-declined" });
    cart.addItem(PRODUCT_A[4]);
    const declined = await cart.checkout({
      pay: async () => {
        throw new Error("card declined");
      },
    }).catch((e) => e);
    expect(declined.message).toBe("card declined");
    const read = await onecart.api.getCart({ cart_id: cart.id });
    expect(read).toMatchObject({ status: "active", lock: null, item_count: 1 });
    expect((await onecart.getCartHistory(cart.id)).map((e) => e.kind)).toEqual([
      "created",
      "item_added",
      "locked",
      "unlocked",
    ]);
  });

  it("completes a paid checkout after its lock expired, and says cart_changed with the payment when an item changed", async () => {
    const { onecart } = startDevice(server, token);
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "checkout-expired" });
    await cart.addItem(PRODUCT_A[0]).done;
    const locked = await cart.lock({ checkoutRef: "terminal-1", ttlSeconds: 1 }).done;
    await db.sql`update pos.carts set lock_expires_at = now() - interval '1 second' where id = ${cart.id}`;
    const completed = await cart.completePaid({
      lockToken: locked.lock.token,
      paymentId: "pay_late",
      paidTotalCents: locked.lock.total_cents,
    });
    expect(completed.status).toBe("checked_out");

    const other = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "checkout-changed" });
    await other.addItem(PRODUCT_A[0]).done;
    const lock2 = await other.lock({ checkoutRef: "terminal-2", ttlSeconds: 1 }).done;
    await db.sql`update pos.carts set lock_expires_at = now() - interval '1 second' where id = ${other.id}`;
    await other.addItem(PRODUCT_A[1]).done;
    const error = await other.completePaid({
      lockToken: lock2.lock.token,
      paymentId: "pay_x",
      paidTotalCents: lock2.lock.total_cents,
    }).catch((e) => e);
    expect(error).toMatchObject({ code: "cart_changed", details: { payment: { paymentId: "pay_x" } } });
  });
});

describe("what is not retried", () => {
  it("a 500 is a defect: reported at once as server_error, not retried; a gateway's 502 is retried as no answer", async () => {
    const { network, onecart } = startDevice(server, token);
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "server-error" });
    network.answerNext(1, () => new Response("gateway", { status: 502 }));
    await cart.addItem(PRODUCT_A[0]).done;
    network.answerNext(1, () => new Response("oops", { status: 500 }));
    const error = await cart.addItem(PRODUCT_A[1]).done.catch((e) => e);
    expect(error).toMatchObject({ code: "server_error", status: 500, retryable: false });
    expect(network.stats.answered).toBe(2);
    expect(network.sent.filter((r) => r.endsWith("/items"))).toHaveLength(1);
  });
});

describe("through supabase.rpc()", () => {
  it("a lost answer over rpc: the retry sends p_idempotency_key again and the item lands once", async () => {
    const { network, onecart } = startDevice(server, token, { via: "rpc" });
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "lost-answer-rpc" });
    network.loseNextAnswers(2, (url) => url.endsWith("/rpc/add_item"));
    const added = await cart.addItem(PRODUCT_A[2], { quantity: 3 }).done;
    expect(network.stats.lost).toBe(2);
    expect(network.sent.filter((r) => r.endsWith("/rpc/add_item"))).toHaveLength(3);
    expect(added).toMatchObject({ version: 2, item_count: 3 });
    const [row] = await db
      .sql`select count(*)::int as n from pos.cart_events where cart_id = ${cart.id} and kind = 'item_added'`;
    expect(row.n).toBe(1);
  });
});

describe("operations", () => {
  it("an owner releases a lock through the typed ops call; staff are forbidden", async () => {
    const { onecart } = startDevice(server, token);
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "ops" });
    await cart.addItem(PRODUCT_A[0]).done;
    await cart.lock({ checkoutRef: "stuck-terminal" }).done;
    const staff = startDevice(server, await server.token(STAFF_A2)).onecart;
    const refused = await staff.api.releaseCartLock({ cart_id: cart.id, reason: "terminal died" }).catch((e) => e);
    expect(refused).toMatchObject({ code: "forbidden", status: 403 });
    const released = await onecart.api.releaseCartLock({ cart_id: cart.id, reason: "terminal died" });
    expect(released).toMatchObject({ status: "active", lock: null });
    const last = (await onecart.getCartHistory(cart.id)).at(-1)!;
    expect(last).toMatchObject({ kind: "unlocked", data: { reason: "terminal died" } });
  });
});
