// Contract v1.1: no request waits unboundedly. A cart or queue held by another
// transaction answers `busy` (503, Retry-After) within the 3 s wait limit with
// nothing changed, through the functions and through supabase.rpc() alike; the
// requests waiting on a held cart cannot take the connections another store
// needs; a request whose client left before it reached the database is never
// applied; lost or unreachable databases answer `unavailable`, and a call that
// never reached Postgres is tried once more by the function itself.
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { callRpc } from "../../functions/_shared/rpc.ts";
import { fromPostgresError } from "../../functions/_shared/errors.ts";
import { freePort } from "../../scripts/lib/postgres.ts";
import {
  assertInvariants,
  cartRow,
  expectError,
  freshDatabase,
  staffClaims,
  type TestDatabase,
} from "../helpers/db.ts";
import { hold, holdCart, lockWaiters } from "../helpers/locks.ts";
import { openCart, startTestServer, type TestServer } from "../helpers/server.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { until } from "../helpers/until.ts";
import {
  CUSTOMER_A,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  PRODUCT_A,
  STAFF_A1,
  STAFF_B1,
  STORE_A,
} from "../helpers/fixture.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;
let cruz: string;

beforeAll(async () => {
  db = await freshDatabase();
  // The default pool of a function instance, said out loud: three connections,
  // at most two for one cart.
  server = await startTestServer(db, { env: { ONECART_DB_POOL_SIZE: "3" } });
  ann = await server.token(STAFF_A1);
  cruz = await server.token(STAFF_B1);
});

let devices = 0;
const newCart = (token = ann, location = LOCATION_A1) =>
  openCart(server, token, { location, device: `waits-${++devices}` });

function addItem(cartId: string, opts: { product?: string; key?: string; signal?: AbortSignal } = {}) {
  return fetch(`${server.apiUrl}/functions/v1/carts/${cartId}/items`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${ann}`,
      "content-type": "application/json",
      "idempotency-key": opts.key ?? randomUUID(),
    },
    body: JSON.stringify({ product_id: opts.product ?? PRODUCT_A[0] }),
    signal: opts.signal,
  });
}

async function expectRetryable(res: Response, code: "busy" | "unavailable") {
  const body = await res.json();
  expect({ status: res.status, code: body?.error?.code }).toEqual({ status: 503, code });
  expect(typeof body.error.message).toBe("string");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThan(0);
  // The same figure for supabase.rpc() callers, who see no headers of ours.
  expect(body.error.details).toEqual({ retry_after: retryAfter });
}

describe("a cart held by another transaction", () => {
  it("answers add_item busy (503, Retry-After) while it is still held, and nothing is applied after", async () => {
    const cart = await newCart();
    const holder = await holdCart(db, cart.id);
    const key = randomUUID();
    const res = await addItem(cart.id, { key });
    expect(holder.holding).toBe(true);
    await expectRetryable(res, "busy");
    await holder.release();
    await sleep(500);
    expect(await cartRow(db.sql, cart.id)).toMatchObject({ version: 1, item_count: 0 });

    // The same key retried once the cart is free applies, once.
    const retried = await addItem(cart.id, { key });
    expect(retried.status).toBe(200);
    expect(await addItem(cart.id, { key }).then((r) => r.json())).toMatchObject({ version: 2, item_count: 1 });
    await assertInvariants(db.sql);
  });

  it("lets 10 waiting requests on it stop neither another store's reads nor its own", async () => {
    const held = await newCart();
    const other = await newCart(cruz, LOCATION_B1);
    const holder = await holdCart(db, held.id);
    const waiting = Array.from({ length: 10 }, () => addItem(held.id));
    await until(async () => (await lockWaiters(db.sql)) >= 2, "the held cart's requests to wait for its lock");

    const read = await server.call("GET", `/carts/${other.id}`, { token: cruz });
    expect(holder.holding).toBe(true);
    expect(read).toMatchObject({ status: 200, body: { id: other.id } });
    // Reads take no lock: even the held cart can be shown meanwhile.
    const heldRead = await server.call("GET", `/carts/${held.id}`, { token: ann });
    expect(holder.holding).toBe(true);
    expect(heldRead).toMatchObject({ status: 200, body: { id: held.id, version: 1 } });

    const answers = await Promise.all(waiting);
    expect(holder.holding).toBe(true);
    for (const res of answers) await expectRetryable(res, "busy");
    await holder.release();
    await sleep(500);
    expect(await cartRow(db.sql, held.id)).toMatchObject({ version: 1, item_count: 0 });
  });

  it("never applies a request whose client gave up before it reached the database", async () => {
    const cart = await newCart();
    const holder = await holdCart(db, cart.id);
    // Two requests take the cart's share of the pool and wait for its lock...
    const first = [addItem(cart.id, { product: PRODUCT_A[0] }), addItem(cart.id, { product: PRODUCT_A[0] })];
    await until(async () => (await lockWaiters(db.sql)) >= 2, "two requests waiting for the cart's lock");
    // ...so a third waits for a connection, and its client gives up.
    const giveUp = new AbortController();
    const third = addItem(cart.id, { product: PRODUCT_A[1], signal: giveUp.signal }).catch((e: Error) => e);
    await sleep(300);
    giveUp.abort();
    expect(await third).toBeInstanceOf(Error);
    await sleep(200);
    await holder.release();
    for (const res of await Promise.all(first)) expect([200, 503]).toContain(res.status);
    await sleep(1000);

    const lines = await db.sql`select i.product_id from pos.cart_items i where i.cart_id = ${cart.id}`;
    expect(lines.map((l) => l.product_id)).not.toContain(PRODUCT_A[1]);
    const logged = server.output.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    expect(logged.some((l) => l.code === "client_gone" && l.status === 499)).toBe(true);
    await assertInvariants(db.sql);
  });
});

describe("a client that hangs up halfway through its body", () => {
  it("is logged as gone (499), not as a fault of ours", async () => {
    const cart = await newCart();
    const body = JSON.stringify({ product_id: PRODUCT_A[2] });
    const url = new URL(`${server.apiUrl}/functions/v1/carts/${cart.id}/items`);
    const before = server.output.length;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${ann}\r\n` +
            `content-type: application/json\r\ncontent-length: ${body.length + 100}\r\n\r\n${body.slice(0, 10)}`,
        );
        // Long enough for the server to be reading the body, then gone mid-body.
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 300);
      });
      socket.on("error", reject);
    });
    const logged = () =>
      server.output.slice(before).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
        .filter((l) => l.route === "POST /:cart_id/items");
    await until(() => logged().length > 0, "the request's log line");
    expect(logged().map((l) => [l.status, l.code])).toEqual([[499, "client_gone"]]);
    expect(server.output.slice(before).some((l) => l.includes('"level":"error"'))).toBe(false);
  });
});

describe("the same wait limit through supabase.rpc() and direct SQL", () => {
  it("answers PT503 busy from the SQL itself, whatever lock_timeout the session has", async () => {
    const cart = await newCart();
    const holder = await holdCart(db, cart.id);
    const claims = staffClaims(STAFF_A1);
    const args = { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] };
    // No lock_timeout at all (a direct session), and hosted PostgREST's 8 s for `authenticated`.
    for (const lockTimeoutMs of [null, 8000]) {
      const { error } = await expectError(
        callRpc(db.sql as never, "add_item", args, claims, { lockTimeoutMs, statementTimeoutMs: null }),
        "busy",
      );
      expect([error.code, error.message]).toEqual(["PT503", "busy"]);
      expect(holder.holding).toBe(true);
    }
    const viaRest = await server.client(ann).rpc("add_item", args);
    expect([viaRest.status, viaRest.error?.code, viaRest.error?.message]).toEqual([503, "PT503", "busy"]);
    expect(holder.holding).toBe(true);
    await holder.release();
    expect(await cartRow(db.sql, cart.id)).toMatchObject({ version: 1, item_count: 0 });
  });

  it("bounds the call by its statement_timeout too, which the mapping answers busy", async () => {
    const cart = await newCart();
    const holder = await holdCart(db, cart.id);
    const { error } = await expectError(
      callRpc(db.sql as never, "add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] }, staffClaims(STAFF_A1), {
        lockTimeoutMs: null,
        statementTimeoutMs: 300,
      }),
      "busy",
    );
    expect(error.code).toBe("57014");
    expect(holder.holding).toBe(true);
    await holder.release();
  });

  it("answers busy for a cart another transaction is still creating, and a checkout whose queue entry is held", async () => {
    const claims = staffClaims(STAFF_A1);
    const noLimits = { lockTimeoutMs: null, statementTimeoutMs: null };
    // Another request has inserted this customer's open cart and not committed.
    const [customer] = await db
      .sql`insert into pos.customers (store_id, name) values (${STORE_A}, 'Opening') returning id`;
    let holder = await hold(db, (tx) =>
      tx`with cart as (
           insert into pos.carts (store_id, location_id, customer_id) values (${STORE_A}, ${LOCATION_A1}, ${customer.id})
           returning id)
         select pos.record_cart_created(cart.id, '{}'::jsonb) from cart`);
    const open = { p_location_id: LOCATION_A1, p_customer_id: customer.id };
    const { error } = await expectError(callRpc(db.sql as never, "get_or_create_cart", open, claims, noLimits), "busy");
    expect(error.code).toBe("PT503");
    expect(holder.holding).toBe(true);
    await holder.release();
    // The holder committed its cart; the refused call added none beside it.
    expect(await db.sql`select 1 from pos.carts where customer_id = ${customer.id}`).toHaveLength(1);

    // The customer is being served; checkout marks the entry done, which a queue change in flight holds.
    const { entry } = await db.service.rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: customer.id });
    let cart = await db.as(STAFF_A1).rpc("add_item", { p_cart_id: entry.cart_id, p_product_id: PRODUCT_A[0] });
    cart = await db.as(STAFF_A1).rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-1" });
    holder = await hold(db, (tx) => tx`select 1 from pos.queue_entries where id = ${entry.id} for update`);
    const checkout = {
      p_cart_id: cart.id,
      p_lock_token: cart.lock.token,
      p_checkout_ref: "pay-1",
      p_paid_total_cents: cart.lock.total_cents,
    };
    await expectError(callRpc(db.sql as never, "complete_checkout", checkout, claims, noLimits), "busy");
    expect(holder.holding).toBe(true);
    await holder.release();
    expect((await cartRow(db.sql, cart.id)).version).toBe(cart.version);
    const done = await db.as(STAFF_A1).rpc("complete_checkout", checkout);
    expect(done.status).toBe("checked_out");
    expect((await db.sql`select status from pos.queue_entries where id = ${entry.id}`)[0].status).toBe("done");
  });

  it("answers busy, not a wait or a 500, where an ops fix meets a held queue entry or a running alert check", async () => {
    const noLimits = { lockTimeoutMs: null, statementTimeoutMs: null };
    const service = { role: "service_role" };
    const [customer] = await db
      .sql`insert into pos.customers (store_id, name) values (${STORE_A}, 'Held') returning id`;
    const { entry } = await db.service.rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: customer.id });

    // abandon_cart marks the customer's entry left; a queue change in flight holds it.
    let holder = await hold(db, (tx) => tx`select 1 from pos.queue_entries where id = ${entry.id} for update`);
    const abandon = { p_cart_id: entry.cart_id, p_reason: "left the shop" };
    await expectError(callRpc(db.sql as never, "abandon_cart", abandon, service, noLimits), "busy");
    expect(holder.holding).toBe(true);
    await holder.release();

    // Overlapping alert checks: the second waits at most 3 s for the first.
    holder = await hold(db, (tx) => tx`select pg_advisory_xact_lock(hashtextextended('onecart/check_alerts', 7))`);
    await expectError(callRpc(db.sql as never, "check_alerts", {}, service, noLimits), "busy");
    await holder.release();
    expect((await db.sql`select status from pos.queue_entries where id = ${entry.id}`)[0].status).toBe("waiting");
  });

  it("answers busy for a held queue, a held queue entry and a request key still running", async () => {
    const service = db.service;
    const queued = await service.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[0] });
    const ann = db.as(STAFF_A1);

    let holder = await hold(db, (tx) => tx`select 1 from pos.locations where id = ${LOCATION_A2} for update`);
    await expectError(ann.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[1] }), "busy");
    await holder.release();

    holder = await hold(db, (tx) => tx`select 1 from pos.queue_entries where id = ${queued.entry.id} for update`);
    await expectError(ann.rpc("leave_queue", { p_entry_id: queued.entry.id }), "busy");
    // Another store's staff learn nothing from a held entry: not_found at once, as
    // for a missing one, never busy (which would say it exists).
    const cruzDb = db.as(STAFF_B1);
    await expectError(cruzDb.rpc("leave_queue", { p_entry_id: queued.entry.id }), "not_found");
    await expectError(cruzDb.rpc("complete_queue_entry", { p_entry_id: queued.entry.id }), "not_found");
    expect(holder.holding).toBe(true);
    await holder.release();

    const cart = await newCart();
    const key = randomUUID();
    holder = await hold(
      db,
      (tx) => tx`select pg_advisory_xact_lock(hashtextextended(${STORE_A}::text || '/' || ${key}, 7))`,
    );
    await expectError(
      ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0], p_idempotency_key: key }),
      "busy",
    );
    await holder.release();

    const [{ waiting }] = await db.sql`select count(*)::int as waiting from pos.queue_entries
                                        where location_id = ${LOCATION_A2} and status = 'waiting'`;
    expect(waiting).toBe(1);
    await assertInvariants(db.sql);
  });
});

describe("connection faults", () => {
  it("answer unavailable (503, Retry-After) when a backend is terminated during a call", async () => {
    const cart = await newCart();
    const holder = await holdCart(db, cart.id);
    const pending = addItem(cart.id);
    let pid = 0;
    await until(
      async () => {
        const rows = await db.sql`select pid from pg_stat_activity where datname = current_database()
                                 and wait_event_type = 'Lock' and query like '%add_item%'`;
        pid = rows[0]?.pid ?? 0;
        return pid !== 0;
      },
      "the call to wait for the cart's lock",
    );
    await db.sql`select pg_terminate_backend(${pid})`;
    await expectRetryable(await pending, "unavailable");
    await holder.release();
    // The pool replaces the lost connection.
    expect((await server.call("GET", `/carts/${cart.id}`, { token: ann })).body).toMatchObject({ version: 1 });
  });

  it("answer unavailable when the database cannot be reached, after one retry, and the server stays up", async () => {
    const closedPort = await freePort();
    const unreachable = await startTestServer(db, {
      env: { ONECART_DB_URL: `postgres://postgres:postgres@127.0.0.1:${closedPort}/postgres` },
    });
    const token = await unreachable.token(STAFF_A1);
    const res = await fetch(`${unreachable.apiUrl}/functions/v1/carts`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ location_id: LOCATION_A1, device_id: "unreachable" }),
    });
    await expectRetryable(res, "unavailable");
    const retries = unreachable.output.filter((l) => l.includes("retrying a call that never reached the database"));
    expect(retries).toHaveLength(1);
    expect((await fetch(`${unreachable.apiUrl}/health`)).status).toBe(200);
  });

  it("retry once, by themselves, a call whose connection was refused before it was sent", async () => {
    const proxy = await startTcpProxy(db.url);
    const flaky = await startTestServer(db, { env: { ONECART_DB_URL: proxy.url, ONECART_DB_POOL_SIZE: "1" } });
    const token = await flaky.token(STAFF_A1);
    const body = { location_id: LOCATION_A1, device_id: "flaky" };
    // A first call opens the instance's connection (and runs its first-connect chores).
    expect((await flaky.call("POST", "/carts", { token, body })).status).toBe(200);
    // The server drops it, and refuses the next connect.
    proxy.dropAll();
    await sleep(200);
    const before = proxy.accepted;
    proxy.refuse = 1;
    const res = await flaky.call("POST", "/carts", { token, body });
    expect(res.status).toBe(200);
    expect(proxy.accepted - before).toBe(2);
    expect(flaky.output.filter((l) => l.includes("retrying a call that never reached the database"))).toHaveLength(1);
  });
});

describe("a connection that goes silent", () => {
  it("answers unavailable once the watchdog gives up, and the next call gets a connection of its own", async () => {
    const proxy = await startTcpProxy(db.url);
    // One connection: if the silent one kept its slot, every later call would be busy.
    const cut = await startTestServer(db, { env: { ONECART_DB_URL: proxy.url, ONECART_DB_POOL_SIZE: "1" } });
    const token = await cut.token(STAFF_A1);
    const created = await cut.call("POST", "/carts", { token, body: { location_id: LOCATION_A1, device_id: "cut" } });
    expect(created.status).toBe(200);
    proxy.silenceAll();
    const started = Date.now();
    const lost = await fetch(`${cut.apiUrl}/functions/v1/carts/${created.body.id}/items`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": "cut-1" },
      body: JSON.stringify({ product_id: PRODUCT_A[0] }),
    });
    await expectRetryable(lost, "unavailable");
    // The watchdog's bound: statement_timeout (8 s) and two connect timeouts (4 s each) and 1 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(16_000);
    // The retry with the same key goes through a new connection and applies once.
    const before = proxy.accepted;
    const retried = await fetch(`${cut.apiUrl}/functions/v1/carts/${created.body.id}/items`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": "cut-1" },
      body: JSON.stringify({ product_id: PRODUCT_A[0] }),
    });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ version: 2, item_count: 1 });
    expect(proxy.accepted).toBeGreaterThan(before);
    expect(cut.output.some((l) => l.includes("a database connection went silent"))).toBe(true);
    // Its own server's start waits for transactions other test files hold open, then 17 s of silence.
  }, 120_000);

  it("replaces the pool once when several calls go silent together, not once per call", async () => {
    const proxy = await startTcpProxy(db.url);
    const cut = await startTestServer(db, { env: { ONECART_DB_URL: proxy.url, ONECART_DB_POOL_SIZE: "3" } });
    const token = await cut.token(STAFF_A1);
    // Three carts opened at once: the instance holds three connections.
    const carts = await Promise.all([1, 2, 3].map(async (n) => {
      const res = await cut.call("POST", "/carts", {
        token,
        body: { location_id: LOCATION_A1, device_id: `cut-${n}` },
      });
      expect(res.status).toBe(200);
      return res.body.id as string;
    }));
    expect(proxy.accepted).toBeGreaterThanOrEqual(2);
    proxy.silenceAll();
    const add = (cart: string) =>
      fetch(`${cut.apiUrl}/functions/v1/carts/${cart}/items`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ product_id: PRODUCT_A[0] }),
      });
    const lost = await Promise.all([add(carts[0]), add(carts[1])]);
    for (const res of lost) await expectRetryable(res, "unavailable");
    // The second call's watchdog found the pool already replaced, and left the fresh one alone.
    const replaced = cut.output.filter((l) => l.includes("a database connection went silent"));
    expect(replaced).toHaveLength(1);
    const after = await add(carts[2]);
    expect(after.status).toBe(200);
  }, 120_000);
});

describe("the error mapping", () => {
  it("maps postgres.js's connection errors and Postgres's shutdown codes to unavailable", () => {
    for (
      const code of [
        "CONNECTION_CLOSED",
        "CONNECTION_ENDED",
        "CONNECTION_DESTROYED",
        "CONNECT_TIMEOUT",
        "ECONNREFUSED",
        "57P01",
        "57P02",
        "57P03",
        "08006",
        "08001",
      ]
    ) {
      expect(fromPostgresError({ code })?.code, code).toBe("unavailable");
    }
    for (const code of ["55P03", "57014", "40P01"]) expect(fromPostgresError({ code })?.code, code).toBe("busy");
    expect(fromPostgresError({ code: "PT503", message: "busy" })?.retryAfter).toBe(1);
    expect(fromPostgresError({ code: "XX000" })).toBeNull();
  });
});
