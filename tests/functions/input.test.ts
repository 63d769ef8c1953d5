// Bad input of every shape gets a 4xx with a contract code and leaves nothing
// half-written, whichever way it arrives: through the functions, through
// supabase.rpc() (the local /rest/v1/rpc), and as the SQL itself sees it on a
// project, where PostgREST hands the RPC the values untouched.
import { beforeAll, describe, expect, it } from "vitest";
import { ApiError, fromPostgresError } from "../../functions/_shared/errors.ts";
import { numberIsExact } from "../../functions/_shared/json.ts";
import { assertInvariants, expectError, freshDatabase, staffClaims, type TestDatabase } from "../helpers/db.ts";
import { expectApiError, startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  ann = await server.token(STAFF_A1);
});

// Words of Postgres's own that must never reach a client.
const POSTGRES_WORDING =
  /out of range for type|invalid input syntax|violates|stack depth|jsonb|integer|bigint|Unicode escape|byte sequence|function public\./i;

function expectRefused(res: { status: number; body: any }, status: number, code: string) {
  expectApiError(res, status, code);
  expect(res.body.error.message).not.toMatch(POSTGRES_WORDING);
}

let devices = 0;
async function newCart() {
  return await db.as(STAFF_A1).rpc("get_or_create_cart", {
    p_location_id: LOCATION_A1,
    p_device_id: `input-${++devices}`,
  });
}

/** The RPC called with SQL argument text, as PostgREST passes values on a project (no JSON round trip). */
async function rawRpc(name: string, args: string) {
  const claims = JSON.stringify(staffClaims(STAFF_A1)).replaceAll("'", "''");
  const [, [row]] = await db.sql.unsafe(
    `select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '${claims}', true);
     select public.${name}(${args}) as result`,
  ).simple() as any;
  return row.result;
}

async function expectSqlRefusal(promise: Promise<unknown>, code: string) {
  const { api } = await expectError(promise, code);
  expect(api.message).not.toMatch(POSTGRES_WORDING);
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 1; i < depth; i++) value = { n: value };
  return { n: value };
}

describe("options through the functions", () => {
  it("take an object of at most 1 KiB and 4 levels; anything else is invalid_input and writes nothing", async () => {
    const cart = await newCart();
    const post = (body: unknown) => server.call("POST", `/carts/${cart.id}/items`, { token: ann, body });
    const add = (options: unknown) => post({ product_id: PRODUCT_A[0], options });

    expect((await add(nested(4))).status).toBe(200);
    expectRefused(await add(nested(5)), 400, "invalid_input");
    expectRefused(await add({ a: [[[[1]]]] }), 400, "invalid_input");
    expect((await add({ note: "x".repeat(1000) })).status).toBe(200);
    expectRefused(await add({ note: "x".repeat(1100) }), 400, "invalid_input");
    // Once a 500: the old line index could not hold options of ~2.7 KB.
    expectRefused(await add({ note: "x".repeat(2700) }), 400, "invalid_input");
    expectRefused(await add("size L"), 400, "invalid_input");
    expectRefused(await add([1, 2]), 400, "invalid_input");

    // 20,000 levels: refused from the raw text, before anything parses it deeply.
    const deep = `{"product_id":"${PRODUCT_A[0]}","options":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    expectRefused(await post(deep), 400, "invalid_input");
    // Objects: 10,000 levels, to stay under the 64 KiB body limit.
    const deepObjects = `{"product_id":"${PRODUCT_A[0]}","options":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}`;
    expectRefused(await post(deepObjects), 400, "invalid_input");

    const after = await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: cart.id });
    expect(after.version).toBe(cart.version + 2);
  });

  it("are stored as sent or refused: numbers a JSON client cannot hold, lone surrogates, NUL, broken UTF-8", async () => {
    const cart = await newCart();
    const post = (body: string) => server.call("POST", `/carts/${cart.id}/items`, { token: ann, body });
    const withOptions = (options: string) => post(`{"product_id":"${PRODUCT_A[1]}","options":${options}}`);

    for (
      const bad of [
        `{"a": 1e400}`,
        `{"a": -1e400}`,
        `{"a": 1e-400}`,
        `{"a": 12345678901234567890}`,
        `{"a": 0.30000000000000000001}`,
        `{"a": [1, 2, 99999999999999999999999]}`,
        `{"a": "\\ud800"}`,
        `{"\\udc00": 1}`,
        `{"a": "x\\ud83dy"}`,
        `{"a": "\\u0000"}`,
      ]
    ) {
      expectRefused(await withOptions(bad), 400, "invalid_input");
    }
    const brokenUtf8 = Buffer.concat([
      Buffer.from(`{"product_id":"${PRODUCT_A[1]}","options":{"a":"`),
      Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80]),
      Buffer.from(`"}}`),
    ]);
    const res = await fetch(`${server.apiUrl}/functions/v1/carts/${cart.id}/items`, {
      method: "POST",
      headers: { authorization: `Bearer ${ann}`, "content-type": "application/json" },
      body: brokenUtf8,
    });
    expectRefused({ status: res.status, body: await res.json() }, 400, "invalid_input");
    expect((await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: cart.id })).version).toBe(cart.version);

    // What does fit is stored exactly: a surrogate pair, 15 digits, tiny and huge magnitudes.
    const ok = await withOptions(`{"e": "\\ud83d\\ude00 ☕", "n": 123456789012345, "s": 1.5e-7, "b": 1e21, "z": -0}`);
    expect(ok.status).toBe(200);
    expect(ok.body.items[0].options).toEqual({ e: "😀 ☕", n: 123456789012345, s: 1.5e-7, b: 1e21, z: 0 });
  });

  it("store 1.0 as 1: the same options in any notation are the same line", async () => {
    const cart = await newCart();
    const post = (options: string) =>
      server.call("POST", `/carts/${cart.id}/items`, {
        token: ann,
        body: `{"product_id":"${PRODUCT_A[2]}","options":${options}}`,
      });
    await post(`{"strength": 1.50, "list": [1.0, 2]}`);
    const second = await post(`{"list": [1, 2.000], "strength": 1.5}`);
    expect(second.body.items.map((i: any) => [i.quantity, i.options])).toEqual([[2, { list: [1, 2], strength: 1.5 }]]);
  });
});

describe("numbers and text through the functions", () => {
  it("refuses each value out of range with invalid_input, in onecart's words", async () => {
    const cart = await newCart();
    const call = (method: string, path: string, body?: unknown) =>
      server.call(method, `/carts/${cart.id}${path}`, { token: ann, body });
    const add = (body: Record<string, unknown>) => call("POST", "/items", { product_id: PRODUCT_A[0], ...body });
    for (const quantity of [0, 1000, -1, 1.5, "1", 2 ** 31, 2 ** 53 + 2, null, true]) {
      expectRefused(await add({ quantity }), 400, "invalid_input");
    }
    expectRefused(
      await call("POST", "/items", `{"product_id":"${PRODUCT_A[0]}","quantity":1e400}`),
      400,
      "invalid_input",
    );
    for (const expected_version of [-1, 1.5, "1", 2 ** 64]) {
      expectRefused(await add({ expected_version }), 400, "invalid_input");
    }
    const line = (await add({ quantity: 1 })).body.items[0];
    for (const quantity of [-1, 2 ** 31, 1.5, "3"]) {
      expectRefused(await call("PATCH", `/items/${line.id}`, { quantity }), 400, "invalid_input");
    }
    for (const v of ["", "abc", "-1", "1e400", "99999999999999999999"]) {
      expectRefused(await call("DELETE", `/items/${line.id}?expected_version=${v}`), 400, "invalid_input");
    }
    for (const ttl_seconds of [0, 3601, -5, 1e15, "60"]) {
      expectRefused(await call("POST", "/lock", { ttl_seconds }), 400, "invalid_input");
    }
    expectRefused(await call("POST", "/lock", { checkout_ref: "r".repeat(201) }), 400, "invalid_input");
    expectRefused(await call("POST", "/lock", { checkout_ref: "" }), 400, "invalid_input");
    expectRefused(await call("POST", "/lock", `{"checkout_ref":"\\udfff"}`), 400, "invalid_input");
    const locked = await call("POST", "/lock", { checkout_ref: "ref-1" });
    expect(locked.status).toBe(200);
    const token = locked.body.lock.token;
    for (const paid_total_cents of [-1, 2 ** 63, 1.25, "500"]) {
      expectRefused(
        await call("POST", "/checkout", { lock_token: token, checkout_ref: "ref-1", paid_total_cents }),
        400,
        "invalid_input",
      );
    }
    expectRefused(
      await call("PATCH", "/lock", { lock_token: token, checkout_ref: "r".repeat(201) }),
      400,
      "invalid_input",
    );

    const carts = (body: unknown) => server.call("POST", "/carts", { token: ann, body });
    expectRefused(await carts({ location_id: LOCATION_A1, device_id: "d".repeat(201) }), 400, "invalid_input");
    expectRefused(await carts(`{"location_id":"${LOCATION_A1}","device_id":"ipad-\\ud800"}`), 400, "invalid_input");
    expectRefused(await carts(`{"location_id":"${LOCATION_A1}","device_id":"ipad-\\u0000"}`), 400, "invalid_input");
    expectRefused(await carts({ location_id: LOCATION_A1, device_id: 42 }), 400, "invalid_input");

    // Only the add and the lock went through.
    expect((await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: cart.id })).version).toBe(cart.version + 2);
  });

  it("answers limit_exceeded past 9,999 units a line and 200 lines a cart", async () => {
    const cart = await newCart();
    const post = (body: unknown) => server.call("POST", `/carts/${cart.id}/items`, { token: ann, body });
    let last: any;
    for (let i = 0; i < 10; i++) last = await post({ product_id: PRODUCT_A[0], quantity: 999 });
    expect(last.body.items[0].quantity).toBe(9990);
    expectRefused(await post({ product_id: PRODUCT_A[0], quantity: 10 }), 422, "limit_exceeded");
    expect((await post({ product_id: PRODUCT_A[0], quantity: 9 })).body.items[0].quantity).toBe(9999);
    const lineId = last.body.items[0].id;
    const patch = (quantity: number) =>
      server.call("PATCH", `/carts/${cart.id}/items/${lineId}`, { token: ann, body: { quantity } });
    expectRefused(await patch(10_000), 422, "limit_exceeded");
    expect((await patch(5000)).body.items[0].quantity).toBe(5000);

    const staff = db.as(STAFF_A1);
    for (let n = 1; n < 200; n++) {
      await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[n % 5], p_options: { n } });
    }
    const full = await staff.rpc("get_cart", { p_cart_id: cart.id });
    expect(full.items).toHaveLength(200);
    expectRefused(await post({ product_id: PRODUCT_A[1], options: { n: "one more" } }), 422, "limit_exceeded");
    await expectSqlRefusal(
      staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[2], p_options: { n: 0 } }),
      "limit_exceeded",
    );
    // Adding to a line the cart already has is still fine.
    expect((await post({ product_id: PRODUCT_A[1], options: { n: 1 } })).status).toBe(200);
    expect((await staff.rpc("get_cart", { p_cart_id: cart.id })).items).toHaveLength(200);
    await assertInvariants(db.sql);
  });
});

describe("the same refusals through direct RPC calls", () => {
  it("the SQL refuses a negative expected version as invalid input, not as a conflict", async () => {
    const cart = await newCart();
    await expectSqlRefusal(
      rawRpc("add_item", `p_cart_id => '${cart.id}', p_product_id => '${PRODUCT_A[0]}', p_expected_version => -1`),
      "invalid_input",
    );
  });

  it("refuses a negative expected version before it looks at the cart: a locked cart answers invalid_input too", async () => {
    const staff = db.as(STAFF_A1);
    const cart = await newCart();
    const added = await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] });
    const item = added.items[0].id;
    const locked = await staff.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-negative" });
    const token = locked.lock.token;
    const calls: Array<[string, Record<string, unknown>]> = [
      ["add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] }],
      ["set_item_quantity", { p_cart_id: cart.id, p_item_id: item, p_quantity: 2 }],
      ["remove_item", { p_cart_id: cart.id, p_item_id: item }],
      ["lock_cart", { p_cart_id: cart.id, p_checkout_ref: "pay-other" }],
      ["update_cart_lock", { p_cart_id: cart.id, p_lock_token: token, p_checkout_ref: "pay-2" }],
      ["unlock_cart", { p_cart_id: cart.id, p_lock_token: token }],
      ["complete_checkout", {
        p_cart_id: cart.id,
        p_lock_token: token,
        p_checkout_ref: "pay-negative",
        p_paid_total_cents: added.subtotal_cents,
      }],
    ];
    for (const [name, args] of calls) {
      await expectSqlRefusal(staff.rpc(name as never, { ...args, p_expected_version: -1 } as never), "invalid_input");
    }
    // Nothing changed: still locked, at the version the lock took.
    expect(await staff.rpc("get_cart", { p_cart_id: cart.id })).toMatchObject({
      status: "locked",
      version: locked.version,
    });
  });

  it("the SQL refuses options it cannot store as sent, even when no function checked them", async () => {
    const cart = await newCart();
    const add = (options: string) =>
      rawRpc(
        "add_item",
        `p_cart_id => '${cart.id}', p_product_id => '${PRODUCT_A[0]}', p_options => '${options}'::jsonb`,
      );
    for (
      const bad of [
        `{"a": 1e400}`,
        `{"a": 12345678901234567890}`,
        `{"a": 1e-301}`,
        `{"a": {"b": {"c": {"d": {"e": 1}}}}}`,
        `{"a": [[[[1]]]]}`,
        `{"note": "${"x".repeat(1100)}"}`,
        `{"note": "${"x".repeat(2700)}"}`,
        `[]`,
        `"x"`,
        `null`,
        // What a lone surrogate or a broken byte has become by the time Postgres sees it.
        `{"a": "\uFFFD"}`,
      ]
    ) {
      await expectSqlRefusal(add(bad), "invalid_input");
    }
    const stored = await add(`{"a": 1.0, "b": [0.10, 100e-2], "c": {"d": {"e": {"f": 1}}}}`);
    expect(stored.items[0].options).toEqual({ a: 1, b: [0.1, 1], c: { d: { e: { f: 1 } } } });
    const [{ text }] = await db.sql`select options::text as text from pos.cart_items where cart_id = ${cart.id}`;
    expect(text).toBe(`{"a": 1, "b": [0.1, 1], "c": {"d": {"e": {"f": 1}}}}`);
    const again = await add(`{"c": {"d": {"e": {"f": 1.00}}}, "b": [0.1, 1], "a": 1}`);
    expect(again.items.map((i: any) => i.quantity)).toEqual([2]);
  });

  it("the SQL answers limit_exceeded and invalid_input for quantities, and refuses U+FFFD in names", async () => {
    const staff = db.as(STAFF_A1);
    const cart = await newCart();
    const add = (p_quantity: number) =>
      staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[3], p_quantity });
    await expectSqlRefusal(add(1000), "invalid_input");
    await expectSqlRefusal(add(0), "invalid_input");
    let line: any;
    for (let i = 0; i < 10; i++) line = (await add(999)).items[0];
    await expectSqlRefusal(add(10), "limit_exceeded");
    const set = (p_quantity: number) =>
      staff.rpc("set_item_quantity", { p_cart_id: cart.id, p_item_id: line.id, p_quantity });
    await expectSqlRefusal(set(10_000), "limit_exceeded");
    await expectSqlRefusal(set(2 ** 31 - 1), "limit_exceeded");
    await expectSqlRefusal(set(-1), "invalid_input");
    // Past the integer itself: Postgres refuses the cast, and onecart says so in its own words.
    await expectSqlRefusal(set(2 ** 31), "invalid_input");
    expect((await set(1000)).items[0].quantity).toBe(1000);

    await expectSqlRefusal(
      staff.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "ipad-\uFFFD" }),
      "invalid_input",
    );
    await expectSqlRefusal(
      staff.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "d".repeat(201) }),
      "invalid_input",
    );
    await expectSqlRefusal(staff.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "r\uFFFD" }), "invalid_input");
    await expectSqlRefusal(staff.rpc("lock_cart", { p_cart_id: cart.id, p_ttl_seconds: 0 }), "invalid_input");
    const locked = await staff.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "r-1" });
    await expectSqlRefusal(
      staff.rpc("complete_checkout", {
        p_cart_id: cart.id,
        p_lock_token: locked.lock.token,
        p_checkout_ref: "r-1",
        p_paid_total_cents: -1,
      }),
      "invalid_input",
    );
    await expectSqlRefusal(
      staff.rpc("update_cart_lock", {
        p_cart_id: cart.id,
        p_lock_token: locked.lock.token,
        p_checkout_ref: "x".repeat(201),
      }),
      "invalid_input",
    );
    await assertInvariants(db.sql);
  });

  it("supabase.rpc() on the local stack refuses what would reach the SQL altered", async () => {
    const client = server.client(ann);
    const cart = await newCart();
    const surrogate = await client.rpc("add_item", {
      p_cart_id: cart.id,
      p_product_id: PRODUCT_A[0],
      p_options: { a: "\ud800" },
    });
    expect([surrogate.status, surrogate.error?.message]).toEqual([400, "invalid_input"]);
    const device = await client.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "x\udc00" });
    expect([device.status, device.error?.message]).toEqual([400, "invalid_input"]);
    const rest = (body: string) =>
      fetch(`${server.apiUrl}/rest/v1/rpc/add_item`, {
        method: "POST",
        headers: { authorization: `Bearer ${ann}`, apikey: server.anonKey, "content-type": "application/json" },
        body,
      });
    for (const options of [`{"a": 1e400}`, `{"a": "\\u0000"}`, `${"[".repeat(20_000)}${"]".repeat(20_000)}`]) {
      const res = await rest(`{"p_cart_id":"${cart.id}","p_product_id":"${PRODUCT_A[0]}","p_options":${options}}`);
      expect([res.status, (await res.json()).message]).toEqual([400, "invalid_input"]);
    }
    const deepInSql = await client.rpc("add_item", {
      p_cart_id: cart.id,
      p_product_id: PRODUCT_A[0],
      p_options: nested(6),
    });
    expect([deepInSql.status, deepInSql.error?.message]).toEqual([400, "invalid_input"]);
    expect((await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: cart.id })).version).toBe(cart.version);
  });
});

describe("the number rule", () => {
  it("accepts exactly the numbers that read back as written", () => {
    for (
      const ok of [
        "0",
        "-0",
        "0.0",
        "1",
        "1.0",
        "1.50",
        "123456789012345",
        "1234567890123450000",
        "1e21",
        "1.5e-7",
        "9.99999999999999e299",
        "1e-300",
        "100e-2",
      ]
    ) {
      expect(numberIsExact(ok), ok).toBe(true);
    }
    for (
      const bad of [
        "1e400",
        "1e300",
        "1e-301",
        "1234567890123456",
        "0.1234567890123456",
        "9007199254740993",
        "1" + "0".repeat(400) + "1",
      ]
    ) {
      expect(numberIsExact(bad), bad).toBe(false);
    }
  });

  it("maps Postgres's own errors to onecart's sentences", () => {
    const mapped = fromPostgresError({
      code: "22003",
      message: 'value "99999999999" is out of range for type integer',
    });
    expect(mapped).toBeInstanceOf(ApiError);
    expect(mapped!.code).toBe("invalid_input");
    expect(mapped!.message).not.toMatch(POSTGRES_WORDING);
  });
});
