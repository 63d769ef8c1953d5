// The edge functions through real Deno over HTTP: every route, every contract
// error with its status and body, auth, input validation, idempotency, load.
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { expectApiError, openCart, startTestServer, TEST_JWT_SECRET, type TestServer } from "../helpers/server.ts";
import {
  CUSTOMER_A,
  CUSTOMER_B1,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  MISSING,
  PRODUCT_A,
  STAFF_A1,
  STAFF_A2,
  STAFF_B1,
} from "../helpers/fixture.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;
let bea: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  ann = await server.token(STAFF_A1);
  bea = await server.token(STAFF_B1);
});

let devices = 0;
const newCart = (token = ann) => openCart(server, token, { location: LOCATION_A1, device: `http-${++devices}` });
const expectError = expectApiError;

describe("cart routes", () => {
  it("POST /carts, GET /carts/:id, GET /carts?location_id=, GET /carts/:id/history", async () => {
    const created = await server.call("POST", "/carts", {
      token: ann,
      body: { location_id: LOCATION_A1, customer_id: CUSTOMER_A[0], device_id: "ipad-1" },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ customer_id: CUSTOMER_A[0], status: "active", version: 1, items: [] });
    const read = await server.call("GET", `/carts/${created.body.id}`, { token: ann });
    expect(read).toMatchObject({ status: 200, body: created.body });
    const list = await server.call("GET", `/carts?location_id=${LOCATION_A1}`, { token: ann });
    expect(list.status).toBe(200);
    expect(list.body.map((c: any) => c.id)).toContain(created.body.id);
    const history = await server.call("GET", `/carts/${created.body.id}/history`, { token: ann });
    expect(history.body).toEqual([expect.objectContaining({ version: 1, kind: "created", actor_id: STAFF_A1 })]);
  });

  it("items: POST, PATCH, DELETE with expected versions", async () => {
    const cart = await newCart();
    const added = await server.call("POST", `/carts/${cart.id}/items`, {
      token: ann,
      body: { product_id: PRODUCT_A[2], quantity: 2, options: { style: "fade" }, expected_version: 1 },
    });
    expect(added).toMatchObject({ status: 200, body: { version: 2, item_count: 2, subtotal_cents: 5000 } });
    const item = added.body.items[0];
    expect(item).toMatchObject({
      quantity: 2,
      unit_price_cents: 2500,
      line_total_cents: 5000,
      options: { style: "fade" },
    });
    const patched = await server.call("PATCH", `/carts/${cart.id}/items/${item.id}`, {
      token: ann,
      body: { quantity: 3, expected_version: 2 },
    });
    expect(patched.body).toMatchObject({ version: 3, item_count: 3 });
    const stale = await server.call("DELETE", `/carts/${cart.id}/items/${item.id}?expected_version=2`, { token: ann });
    expectError(stale, 409, "version_conflict");
    expect(stale.body.error.details).toEqual({ current_version: 3 });
    const removed = await server.call("DELETE", `/carts/${cart.id}/items/${item.id}?expected_version=3`, {
      token: ann,
    });
    expect(removed.body).toMatchObject({ version: 4, items: [], item_count: 0 });
  });

  it("lock, update, unlock, lock again and check out", async () => {
    const cart = await newCart();
    expectError(await server.call("POST", `/carts/${cart.id}/lock`, { token: ann, body: {} }), 422, "cart_empty");
    await server.call("POST", `/carts/${cart.id}/items`, { token: ann, body: { product_id: PRODUCT_A[1] } });
    const locked = await server.call("POST", `/carts/${cart.id}/lock`, {
      token: ann,
      body: { checkout_ref: "term-1", ttl_seconds: 60 },
    });
    expect(locked).toMatchObject({
      status: 200,
      body: { status: "locked", lock: { checkout_ref: "term-1", total_cents: 1200 } },
    });
    const token = locked.body.lock.token;
    expect(token).toMatch(/^[0-9a-f-]{36}$/);

    expectError(
      await server.call("POST", `/carts/${cart.id}/items`, { token: ann, body: { product_id: PRODUCT_A[1] } }),
      423,
      "cart_locked",
    );
    expectError(
      await server.call("POST", `/carts/${cart.id}/lock`, { token: ann, body: { checkout_ref: "term-2" } }),
      423,
      "cart_locked",
    );
    expectError(
      await server.call("PATCH", `/carts/${cart.id}/lock`, {
        token: ann,
        body: { lock_token: MISSING, checkout_ref: "x" },
      }),
      409,
      "lock_mismatch",
    );
    const updated = await server.call("PATCH", `/carts/${cart.id}/lock`, {
      token: ann,
      body: { lock_token: token, checkout_ref: "term-1b" },
    });
    expect(updated.body.lock).toMatchObject({ checkout_ref: "term-1b" });
    expect(updated.body.lock.token).toBeUndefined();
    const unlocked = await server.call("DELETE", `/carts/${cart.id}/lock`, { token: ann, body: { lock_token: token } });
    expect(unlocked.body).toMatchObject({ status: "active", lock: null });

    const relocked = await server.call("POST", `/carts/${cart.id}/lock`, { token: ann });
    const pay = (body: object) =>
      server.call("POST", `/carts/${cart.id}/checkout`, {
        token: ann,
        body: { lock_token: relocked.body.lock.token, checkout_ref: "pay-9", paid_total_cents: 1200, ...body },
      });
    expectError(await pay({ paid_total_cents: 1000 }), 409, "total_mismatch");
    const done = await pay({});
    expect(done).toMatchObject({ status: 200, body: { status: "checked_out" } });
    expect((await pay({})).body).toEqual(done.body);
    expectError(
      await server.call("POST", `/carts/${cart.id}/items`, { token: ann, body: { product_id: PRODUCT_A[1] } }),
      409,
      "cart_closed",
    );
  });

  it("answers cart_changed when an expired lock's cart changed", async () => {
    const cart = await newCart();
    await server.call("POST", `/carts/${cart.id}/items`, { token: ann, body: { product_id: PRODUCT_A[1] } });
    const locked = await server.call("POST", `/carts/${cart.id}/lock`, { token: ann, body: { ttl_seconds: 30 } });
    await db.sql`update pos.carts set lock_expires_at = now() - interval '1 second' where id = ${cart.id}`;
    await server.call("POST", `/carts/${cart.id}/items`, { token: ann, body: { product_id: PRODUCT_A[0] } });
    expectError(
      await server.call("POST", `/carts/${cart.id}/checkout`, {
        token: ann,
        body: { lock_token: locked.body.lock.token, checkout_ref: "p", paid_total_cents: 1200 },
      }),
      409,
      "cart_changed",
    );
  });
});

describe("queue routes", () => {
  it("POST /queue, GET /queue, POST /queue/next (204 when empty), complete, DELETE", async () => {
    const joined = await server.call("POST", "/queue", {
      token: ann,
      body: { location_id: LOCATION_A2, customer_id: CUSTOMER_A[1] },
    });
    expect(joined.status).toBe(200);
    expect(joined.body.entry).toMatchObject({ status: "waiting", position: 1 });
    expect(joined.body.cart).toMatchObject({ customer_id: CUSTOMER_A[1], location_id: LOCATION_A2 });
    await server.call("POST", "/queue", { token: ann, body: { location_id: LOCATION_A2, customer_id: CUSTOMER_A[2] } });
    const queue = await server.call("GET", `/queue?location_id=${LOCATION_A2}`, { token: ann });
    expect(queue.body.entries.map((e: any) => e.position)).toEqual([1, 2]);
    const next = await server.call("POST", "/queue/next", { token: ann, body: { location_id: LOCATION_A2 } });
    expect(next).toMatchObject({ status: 200, body: { id: joined.body.entry.id, status: "serving" } });
    const done = await server.call("POST", `/queue/${next.body.id}/complete`, { token: ann });
    expect(done.body.status).toBe("done");
    const left = await server.call("DELETE", `/queue/${queue.body.entries[1].id}`, { token: ann });
    expect(left.body.status).toBe("left");
    const empty = await server.call("POST", "/queue/next", { token: ann, body: { location_id: LOCATION_A2 } });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it("keeps store B out of store A's queue", async () => {
    expectError(await server.call("GET", `/queue?location_id=${LOCATION_A2}`, { token: bea }), 404, "not_found");
    expectError(
      await server.call("POST", "/queue", {
        token: bea,
        body: { location_id: LOCATION_A2, customer_id: CUSTOMER_A[0] },
      }),
      404,
      "not_found",
    );
    expect(
      (await server.call("POST", "/queue", {
        token: bea,
        body: { location_id: LOCATION_B1, customer_id: CUSTOMER_B1 },
      })).status,
    ).toBe(200);
  });
});

describe("authentication", () => {
  async function sign(claims: object, opts: { secret?: string; exp?: number } = {}) {
    return await new SignJWT({ sub: STAFF_A1, role: "authenticated", aud: "authenticated", ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 60)
      .sign(new TextEncoder().encode(opts.secret ?? TEST_JWT_SECRET));
  }

  it("401 for a missing, expired, wrongly signed, alg none, anon or garbage token", async () => {
    const header = (obj: object) => Buffer.from(JSON.stringify(obj)).toString("base64url");
    const none = `${header({ alg: "none", typ: "JWT" })}.${
      header({
        sub: STAFF_A1,
        role: "authenticated",
        exp: Math.floor(Date.now() / 1000) + 60,
      })
    }.`;
    const tokens: Array<string | null> = [
      null,
      await sign({}, { exp: Math.floor(Date.now() / 1000) - 10 }),
      await sign({}, { secret: "another-secret-another-secret-another-secret" }),
      none,
      server.anonKey,
      "not.a.jwt",
      await sign({ role: "postgres" }),
    ];
    for (const token of tokens) {
      expectError(await server.call("GET", `/carts?location_id=${LOCATION_A1}`, { token }), 401, "not_authenticated");
    }
    expect((await server.call("GET", `/carts?location_id=${LOCATION_A1}`, { token: await sign({}) })).status).toBe(200);
  });

  it("lets a service_role token in, across stores", async () => {
    const list = await server.call("GET", `/carts?location_id=${LOCATION_B1}`, { token: server.serviceRoleKey });
    expect(list.status).toBe(200);
    const theirs = await server.call("GET", `/carts?location_id=${LOCATION_A1}`, { token: server.serviceRoleKey });
    expect(theirs.status).toBe(200);
  });
});

describe("input", () => {
  it("refuses malformed JSON, wrong types, unknown fields, malformed ids and oversized bodies", async () => {
    const cart = await newCart();
    const post = (body: unknown) => server.call("POST", `/carts/${cart.id}/items`, { token: ann, body });
    expectError(await post("{not json"), 400, "invalid_input");
    expectError(await post({ product_id: PRODUCT_A[0], quantity: "2" }), 400, "invalid_input");
    expectError(await post({ product_id: PRODUCT_A[0], quantity: 1.5 }), 400, "invalid_input");
    expectError(await post({ product_id: PRODUCT_A[0], price_cents: 1 }), 400, "invalid_input");
    expectError(await post({ product_id: "nope" }), 400, "invalid_input");
    expectError(await post({ product_id: PRODUCT_A[0], quantity: 0 }), 400, "invalid_input");
    expectError(await post({ product_id: PRODUCT_A[0], quantity: 2 ** 40 }), 400, "invalid_input");
    expectError(await post([]), 400, "invalid_input");
    expectError(await server.call("GET", "/carts/not-a-uuid", { token: ann }), 400, "invalid_input");
    expectError(
      await server.call("POST", "/carts", { token: ann, body: { location_id: LOCATION_A1 } }),
      400,
      "invalid_input",
    );
    expectError(
      await server.call("GET", `/carts?location_id=${LOCATION_A1}&extra=1`, { token: ann }),
      400,
      "invalid_input",
    );
    const big = { product_id: PRODUCT_A[0], options: { note: "x".repeat(70 * 1024) } };
    expectError(await post(big), 413, "payload_too_large");
    expect((await server.call("GET", `/carts/${cart.id}`, { token: ann })).body.version).toBe(1);
  });

  it("answers not_found for unknown routes and other stores' ids", async () => {
    expectError(await server.call("GET", "/carts/a/b/c/d", { token: ann }), 404, "not_found");
    expectError(await server.call("PUT", "/carts", { token: ann, body: {} }), 404, "not_found");
    expectError(await server.call("GET", "/nothing", { token: ann }), 404, "not_found");
    const theirs = await newCart(ann);
    expectError(await server.call("GET", `/carts/${theirs.id}`, { token: bea }), 404, "not_found");
  });

  it("answers CORS preflight", async () => {
    const res = await fetch(`${server.apiUrl}/functions/v1/carts/${MISSING}/items`, {
      method: "OPTIONS",
      headers: {
        origin: "https://pos.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, idempotency-key",
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toContain("idempotency-key");
    expect(res.headers.get("access-control-allow-methods")).toContain("PATCH");
  });
});

describe("idempotency and load", () => {
  it("replays an Idempotency-Key through HTTP and refuses it for another request", async () => {
    const cart = await newCart();
    const add = (quantity: number) =>
      server.call("POST", `/carts/${cart.id}/items`, {
        token: ann,
        body: { product_id: PRODUCT_A[3], quantity },
        headers: { "idempotency-key": `tap-${cart.id}` },
      });
    const first = await add(2);
    const again = await add(2);
    expect(again).toMatchObject({ status: 200, body: first.body });
    expectError(await add(3), 422, "idempotency_key_reused");
    expect((await server.call("GET", `/carts/${cart.id}`, { token: ann })).body).toMatchObject({
      version: 2,
      item_count: 2,
    });
  });

  it("50 concurrent HTTP add_item on one cart: nothing lost", async () => {
    const cart = await newCart();
    const tokens = [ann, await server.token(STAFF_A2)];
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        server.call("POST", `/carts/${cart.id}/items`, {
          token: tokens[i % 2],
          body: { product_id: PRODUCT_A[i % 5], quantity: 1 },
        })),
    );
    expect(results.map((r) => r.status === "fulfilled" ? r.value.status : String(r.reason)))
      .toEqual(Array(50).fill(200));
    const final = await server.call("GET", `/carts/${cart.id}`, { token: ann });
    expect(final.body).toMatchObject({ version: 51, item_count: 50 });
    expect(final.body.items.map((i: any) => i.quantity)).toEqual([10, 10, 10, 10, 10]);
    await assertInvariants(db.sql);
  });

  it("works from supabase-js functions.invoke", async () => {
    const client = server.client(ann);
    const { data, error } = await client.functions.invoke("carts", {
      body: { location_id: LOCATION_A1, device_id: "invoke-1" },
    });
    expect(error).toBeNull();
    const { data: added } = await client.functions.invoke(`carts/${data.id}/items`, {
      body: { product_id: PRODUCT_A[0], quantity: 2 },
    });
    expect(added).toMatchObject({ version: 2, item_count: 2 });
    const { error: bad } = await client.functions.invoke(`carts/${data.id}/items`, { body: { product_id: "x" } });
    expect(bad?.context?.status).toBe(400);
    expect((await bad.context.json()).error.code).toBe("invalid_input");
  });

  it("gives every response an x-request-id: success, refusal, preflight, unknown route, too large", async () => {
    const cart = await server.call("POST", "/carts", {
      token: ann,
      body: { location_id: LOCATION_A1, device_id: "rid-1" },
    });
    const answers: Array<[string, Promise<Response>]> = [
      [
        "a success",
        fetch(`${server.apiUrl}/functions/v1/carts/${cart.body.id}`, { headers: { authorization: `Bearer ${ann}` } }),
      ],
      ["no token", fetch(`${server.apiUrl}/functions/v1/carts/${cart.body.id}`)],
      [
        "bad input",
        fetch(`${server.apiUrl}/functions/v1/carts`, {
          method: "POST",
          headers: { authorization: `Bearer ${ann}`, "content-type": "application/json" },
          body: "{",
        }),
      ],
      [
        "a version conflict",
        fetch(`${server.apiUrl}/functions/v1/carts/${cart.body.id}/items`, {
          method: "POST",
          headers: { authorization: `Bearer ${ann}`, "content-type": "application/json" },
          body: JSON.stringify({ product_id: PRODUCT_A[0], expected_version: 99 }),
        }),
      ],
      [
        "a preflight",
        fetch(`${server.apiUrl}/functions/v1/carts`, {
          method: "OPTIONS",
          headers: { origin: "http://till.example", "access-control-request-method": "POST" },
        }),
      ],
      [
        "an unknown route",
        fetch(`${server.apiUrl}/functions/v1/carts/${cart.body.id}/nothing`, {
          headers: { authorization: `Bearer ${ann}` },
        }),
      ],
      ["the queue's unknown route", fetch(`${server.apiUrl}/functions/v1/queue/x/y/z`)],
      [
        "a body over the limit",
        fetch(`${server.apiUrl}/functions/v1/carts`, {
          method: "POST",
          headers: { authorization: `Bearer ${ann}`, "content-type": "application/json" },
          body: JSON.stringify({ location_id: LOCATION_A1, device_id: "x".repeat(2_000_000) }),
        }),
      ],
    ];
    const seen = await Promise.all(answers.map(async ([what, answer]) => {
      const res = await answer;
      await res.arrayBuffer();
      return [what, res.status, /^[0-9a-f-]{36}$/.test(res.headers.get("x-request-id") ?? "")];
    }));
    expect(seen).toEqual([
      ["a success", 200, true],
      ["no token", 401, true],
      ["bad input", 400, true],
      ["a version conflict", 409, true],
      ["a preflight", 204, true],
      ["an unknown route", 404, true],
      ["the queue's unknown route", 404, true],
      ["a body over the limit", 413, true],
    ]);
    // A caller's own id is answered back, and a browser may read it.
    const traced = await server.call("GET", `/carts/${MISSING}`, { token: ann, headers: { "x-request-id": "till-7" } });
    expect(traced.headers.get("x-request-id")).toBe("till-7");
    expect(traced.headers.get("access-control-expose-headers")).toContain("x-request-id");
  });

  it("logs one JSON line per request with method, route, status, code, time and request id", async () => {
    await server.call("GET", `/carts/${MISSING}`, { token: ann, headers: { "x-request-id": "req-log-1" } });
    const lines = server.output.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    const line = lines.find((l) => l.request_id === "req-log-1");
    expect(line).toMatchObject({ fn: "carts", method: "GET", route: "GET /:cart_id", status: 404, code: "not_found" });
    expect(typeof line.ms).toBe("number");
    expect(lines.filter((l) => l.request_id === "req-log-1")).toHaveLength(1);
  });
});
