// A till that gives up on a request (its connection closes) leaves nothing
// behind: its statement, waiting for a held cart, is cancelled at once rather
// than applied later, unseen, when the cart is free. What had already
// committed stays committed, and the till's retry with the same key finds it.
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { openCart, startTestServer, type TestServer } from "../helpers/server.ts";
import { holdCart, lockWaiters } from "../helpers/locks.ts";
import { until } from "../helpers/until.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  ann = await server.token(STAFF_A1);
});

let devices = 0;
const newCart = () => openCart(server, ann, { location: LOCATION_A1, device: `gone-${++devices}` });

/** An add sent over a socket of its own, which the till can close without reading the answer. */
function sendAdd(cartId: string, key: string, requestId: string): { hangUp(): void } {
  const url = new URL(`${server.apiUrl}/functions/v1/carts/${cartId}/items`);
  const body = JSON.stringify({ product_id: PRODUCT_A[0] });
  const socket = connect(Number(url.port), url.hostname, () => {
    socket.write(
      `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${ann}\r\n` +
        `content-type: application/json\r\nidempotency-key: ${key}\r\nx-request-id: ${requestId}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  socket.on("error", () => {});
  return { hangUp: () => socket.destroy() };
}

/** The function's log line for one request, once it is written. */
async function logLine(requestId: string): Promise<{ status: number; code: string | null }> {
  const line = () =>
    server.output.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).find((l) =>
      l.request_id === requestId && l.route
    );
  await until(() => line() !== undefined, `the log line of request ${requestId}`);
  return line();
}

async function cartRow(cartId: string) {
  const [cart] = await db.sql`select version::int, item_count::int from pos.carts where id = ${cartId}`;
  return cart;
}

describe("a till that hangs up", () => {
  it("while its add waits for a held cart: the statement is cancelled, and nothing is applied", async () => {
    const cart = await newCart();
    const holder = await holdCart(db, cart.id);
    const requestId = randomUUID();
    const till = sendAdd(cart.id, randomUUID(), requestId);
    await until(async () => (await lockWaiters(db.sql)) >= 1, "the add to wait for the cart's lock");
    till.hangUp();

    // Its call ended as the till's leaving, while the cart was still held: it
    // was cancelled, not answered busy at its 3 s lock limit.
    expect(await logLine(requestId)).toMatchObject({ status: 499, code: "client_gone" });
    expect(holder.holding).toBe(true);
    expect(await lockWaiters(db.sql)).toBe(0);

    // Nothing is left to be applied once the cart is free.
    await holder.release();
    await sleep(500);
    expect(await cartRow(cart.id)).toEqual({ version: 1, item_count: 0 });
    // The instance serves on: the connection the cancel was for is not reused.
    const next = await server.call("POST", `/carts/${cart.id}/items`, {
      token: ann,
      body: { product_id: PRODUCT_A[1] },
      headers: { "idempotency-key": randomUUID() },
    });
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ version: 2, item_count: 1 });
    await assertInvariants(db.sql);
  });

  it("after its add committed: the add stays, and the retry with its key finds it", async () => {
    const cart = await newCart();
    const holder = await holdCart(db, cart.id);
    const key = randomUUID();
    const till = sendAdd(cart.id, key, randomUUID());
    await until(async () => (await lockWaiters(db.sql)) >= 1, "the add to wait for the cart's lock");
    await holder.release();
    await until(async () => (await cartRow(cart.id)).version === 2, "the add to commit");
    till.hangUp();
    await sleep(300);

    const retried = await server.call("POST", `/carts/${cart.id}/items`, {
      token: ann,
      body: { product_id: PRODUCT_A[0] },
      headers: { "idempotency-key": key },
    });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ version: 2, item_count: 1 });
    expect(await cartRow(cart.id)).toEqual({ version: 2, item_count: 1 });
    await assertInvariants(db.sql);
  });
});
