// Every route over real HTTP with arbitrary methods, paths, queries, headers and
// bodies (deep nesting, numbers no double holds, lone surrogates, broken UTF-8,
// wrong types): never a 5xx, every non-2xx the contract's error body with a
// contract code and its status, and the server still answering afterwards.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_STATUS } from "../../functions/_shared/errors.ts";
import { stable } from "../helpers/json.ts";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import {
  CUSTOMER_A,
  CUSTOMER_B1,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  MISSING,
  PRODUCT_A,
  PRODUCT_B1,
  STAFF_A1,
  STAFF_B1,
} from "../helpers/fixture.ts";

let db: TestDatabase;
let server: TestServer;
const tokens: string[] = [];
const ids = { carts: [] as string[], items: [] as string[], entries: [] as string[], lockTokens: [] as string[] };

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  tokens.push(await server.token(STAFF_A1), await server.token(STAFF_B1), await server.token(STAFF_A1, -60));
  // Real ids to aim at, so that fuzzed requests reach the RPCs and not only validation.
  const ann = db.as(STAFF_A1);
  for (const device of ["fuzz-1", "fuzz-2", "fuzz-3"]) {
    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: device });
    const added = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0], p_options: { s: "L" } });
    ids.carts.push(cart.id);
    ids.items.push(added.items[0].id);
  }
  ids.lockTokens.push((await ann.rpc("lock_cart", { p_cart_id: ids.carts[2], p_ttl_seconds: 3600 })).lock.token);
  for (const customer of CUSTOMER_A) {
    ids.entries.push((await ann.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: customer })).entry.id);
  }
  const bea = db.as(STAFF_B1);
  const theirs = await bea.rpc("add_to_queue", { p_location_id: LOCATION_B1, p_customer_id: CUSTOMER_B1 });
  ids.carts.push(theirs.cart.id);
  ids.entries.push(theirs.entry.id);
}, 60_000);

/** A JSON token written as is: a number no double holds, an escape JSON.stringify would not make. */
class Raw {
  constructor(readonly text: string) {}
}

function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const pick = <T>(list: () => T[]) => fc.nat().map((n) => list()[n % list().length]);
const uuidLike = fc.oneof(
  pick(() => ids.carts),
  pick(() => ids.items),
  pick(() => ids.entries),
  pick(() => ids.lockTokens),
  fc.constantFrom(LOCATION_A1, LOCATION_A2, LOCATION_B1, ...CUSTOMER_A, CUSTOMER_B1, ...PRODUCT_A, PRODUCT_B1, MISSING),
  fc.uuid(),
);

const loneSurrogate = fc.constantFrom("\ud800", "\udfff", "a\udc00b", "\ud83d", "x\ud800\ud800y");
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 20 }),
  loneSurrogate,
  fc.string({ minLength: 190, maxLength: 300 }),
  fc.constantFrom("", "\0", "a\u0000b", "\uFFFD", "1", "-1", "null"),
);
const rawNumber = fc.oneof(
  fc.constantFrom(
    "1e400",
    "-1e400",
    "1e-400",
    "12345678901234567890",
    "9007199254740993",
    "0.30000000000000000001",
    "1.0",
    "-0",
    "1E+2",
    "2147483648",
    "9223372036854775808",
    "1e308",
  ),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
).map((text) => new Raw(text));
const rawEscape = fc.constantFrom('"\\ud800"', '"\\udc00\\ud800"', '"\\u0000"', '"\\uD83D\\uDE00"', '"\\u00e9"')
  .map((text) => new Raw(text));
// fast-check favours small integers; the depths that once broke things are named.
const depth = fc.oneof(fc.constantFrom(5, 6, 64, 5_000, 20_000, 30_000), fc.integer({ min: 3, max: 30_000 }));
const deep = fc.tuple(depth, fc.boolean()).map(([depth, arrays]) =>
  new Raw(
    arrays ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(Math.min(depth, 12_000)) + "1" +
      "}".repeat(Math.min(depth, 12_000)),
  )
);

// Notes around the limits, of text that does not compress (a compressed one fits an index row).
const longNote = fc.tuple(fc.constantFrom(1000, 1030, 2700, 3000, 4000, 5000), fc.integer({ min: 1, max: 2 ** 31 }))
  .map(([length, seed]) => {
    let text = "";
    for (let x = seed; text.length < length; x = (x * 1103515245 + 12345) % 2 ** 31) {
      text += String.fromCharCode(0x21 + (x % 90));
    }
    return { note: text.replaceAll("\\", "/") };
  });

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: uuidLike },
  { weight: 2, arbitrary: fc.integer({ min: -5, max: 12_000 }) },
  { weight: 2, arbitrary: nastyString },
  { weight: 2, arbitrary: rawNumber },
  { weight: 1, arbitrary: rawEscape },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, 2 ** 53, -(2 ** 63), 1.5) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 6 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyString, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }) },
  // Objects, so that they pass for options as far as their shape goes.
  {
    weight: 1,
    arbitrary: fc.dictionary(nastyString, fc.oneof(rawNumber, rawEscape, deep, nastyString), { maxKeys: 3 }),
  },
  { weight: 1, arbitrary: longNote },
);

// Each field valid more often than not, so that requests get past validation and into the RPCs.
const VALID: Record<string, fc.Arbitrary<unknown>> = {
  location_id: fc.constantFrom(LOCATION_A1, LOCATION_A2, LOCATION_B1),
  customer_id: fc.constantFrom(...CUSTOMER_A, CUSTOMER_B1),
  device_id: fc.string({ minLength: 1, maxLength: 12 }),
  product_id: fc.constantFrom(...PRODUCT_A, PRODUCT_B1),
  quantity: fc.integer({ min: 1, max: 999 }),
  options: fc.oneof(
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
    fc.dictionary(nastyString, fc.oneof(rawNumber, rawEscape, deep, nastyString, fc.jsonValue()), { maxKeys: 3 }),
    longNote,
  ),
  expected_version: fc.integer({ min: 1, max: 6 }),
  checkout_ref: fc.string({ minLength: 1, maxLength: 12 }),
  ttl_seconds: fc.integer({ min: 1, max: 3600 }),
  lock_token: pick(() => ids.lockTokens),
  paid_total_cents: fc.nat({ max: 100_000 }),
};
const FIELDS = Object.keys(VALID);
// Valid for store A's staff member, who sends the requests that must get past validation.
const VALID_FOR_A: Record<string, fc.Arbitrary<unknown>> = {
  ...VALID,
  location_id: fc.constantFrom(LOCATION_A1, LOCATION_A2),
  customer_id: fc.constantFrom(...CUSTOMER_A),
  product_id: fc.constantFrom(...PRODUCT_A),
  options: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
};
const object = (fields: string[]) =>
  fc.tuple(
    fc.subarray(fields, { minLength: Math.max(0, fields.length - 2) }),
    fc.oneof(
      { weight: 5, arbitrary: fc.constant([]) },
      { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...FIELDS), nastyString), nastyValue)) },
    ),
    fc.tuple(...fields.map((f) => fc.oneof({ weight: 5, arbitrary: VALID[f] }, { weight: 1, arbitrary: nastyValue }))),
  ).map(([chosen, extra, values]) =>
    Object.fromEntries([...chosen.map((f) => [f, values[fields.indexOf(f)]]), ...extra])
  );

type Body = { text: string } | { bytes: Uint8Array } | null;
const body = (fields: string[]): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 12, arbitrary: object(fields).map((o) => ({ text: toJson(o) })) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: nastyValue.map((v) => ({ text: toJson(v) })) },
    { weight: 1, arbitrary: fc.string().map((text) => ({ text })) },
    {
      weight: 1,
      arbitrary: fc.tuple(object(fields), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([o, junk]) => {
        const text = Buffer.from(toJson({ ...o, note: "@" }));
        const at = text.indexOf("@");
        return { bytes: at < 0 ? junk : Buffer.concat([text.subarray(0, at), junk, text.subarray(at + 1)]) };
      }),
    },
  );

const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f)
    .map((c) => String.fromCharCode(c)),
  maxLength: 300,
});
const headers = fc.record({
  auth: fc.oneof(
    { weight: 8, arbitrary: fc.nat().map((n) => `Bearer ${tokens[n % 4 === 0 ? 1 : 0]}`) },
    // Expired, or the anon key.
    { weight: 1, arbitrary: fc.nat().map((n) => `Bearer ${[tokens[2], server.anonKey][n % 2]}`) },
    { weight: 1, arbitrary: fc.option(headerText.map((t) => t.trim()), { nil: undefined }) },
  ),
  contentType: fc.constantFrom("application/json", "text/plain", undefined, "application/json; charset=latin1"),
  idempotencyKey: fc.option(fc.oneof(fc.uuid(), headerText.map((t) => t.trim())), { nil: undefined }),
});
const query = fc.oneof(
  fc.constant(""),
  fc.dictionary(
    fc.constantFrom("location_id", "expected_version", "extra", "x"),
    fc.oneof(uuidLike.map(String), fc.constantFrom("", "1", "-1", "1e400", "abc", "99999999999999999999")),
    { maxKeys: 3 },
  )
    .map((q) => `?${new URLSearchParams(q as Record<string, string>)}`),
  fc.constantFrom("?location_id=%ED%A0%80", "?location_id=%zz", "?expected_version=%00", "?=&&=", "?location_id"),
);

const segment = fc.oneof(
  uuidLike.map(String),
  fc.constantFrom("items", "lock", "checkout", "history", "next", "complete", "", ".."),
  fc.string().map(encodeURIComponent),
  fc.constantFrom("%ED%A0%80", "%00", "%zz", "a%2Fb"),
);

interface Fuzzed {
  method: string;
  path: string;
  query: string;
  body: Body;
  headers: { auth?: string; contentType?: string; idempotencyKey?: string };
}

/** Sends the request; returns what the test needs to judge the answer. */
async function send(req: Fuzzed): Promise<{ status: number; text: string }> {
  const h: Record<string, string> = {};
  if (req.headers.auth !== undefined) h.authorization = req.headers.auth;
  if (req.headers.contentType !== undefined) h["content-type"] = req.headers.contentType;
  if (req.headers.idempotencyKey !== undefined) h["idempotency-key"] = req.headers.idempotencyKey;
  const payload = req.method === "GET" || req.method === "HEAD" || !req.body
    ? undefined
    : "text" in req.body
    ? req.body.text
    : req.body.bytes as Uint8Array<ArrayBuffer>;
  const res = await fetch(`${server.apiUrl}/functions/v1${req.path}${req.query}`, {
    method: req.method,
    headers: h,
    body: payload,
  });
  return { status: res.status, text: await res.text() };
}

/** Codes only an RPC answers: a request refused with one got past every check of its input. */
const PAST_VALIDATION = new Set<string>([
  "version_conflict",
  "cart_closed",
  "lock_mismatch",
  "total_mismatch",
  "cart_changed",
  "idempotency_key_reused",
  "cart_empty",
  "cart_locked",
  "limit_exceeded",
]);

const statuses = new Map<string, number>();
/** Requests of the current test that passed validation (answered 2xx or an RPC's own refusal). */
let validated = 0;

/** What a POST to a known cart's items may change: its version and its lines. */
async function storedCart(cartId: string) {
  const [cart] = await db.sql`select version::int,
      (select coalesce(jsonb_agg(jsonb_build_array(product_id, options, quantity) order by id), '[]')
         from pos.cart_items where cart_id = c.id) as lines
    from pos.carts c where id = ${cartId}`;
  return cart;
}

async function judge(req: Fuzzed): Promise<void> {
  const itemsOf = /^\/carts\/([^/]+)\/items$/.exec(req.path)?.[1];
  const knownCart = req.method === "POST" && itemsOf && ids.carts.includes(itemsOf) ? itemsOf : null;
  const before = knownCart ? await storedCart(knownCart) : null;
  const cartsBefore = req.method === "POST" && req.path === "/carts" ? await cartCount() : null;
  const { status, text } = await send(req);
  const code = status >= 300 && text ? JSON.parse(text)?.error?.code : "";
  statuses.set(`${status} ${code}`, (statuses.get(`${status} ${code}`) ?? 0) + 1);
  if (status < 300 || PAST_VALIDATION.has(code)) validated++;
  const where = `${req.method} ${req.path}${req.query}`;
  expect(status, `${where} answered ${status}: ${text.slice(0, 300)}`).toBeLessThan(500);
  // Refused means nothing stored: not a line with mangled options, not a cart with a mangled device id.
  if (status >= 300 && knownCart) {
    expect(await storedCart(knownCart), `${where} answered ${status} and changed the cart`).toEqual(before);
  }
  if (status >= 300 && cartsBefore !== null) {
    expect(await cartCount(), `${where} answered ${status} and made a cart`).toBe(cartsBefore);
  }
  if (status === 200 && req.method === "POST" && req.path === "/carts") {
    const sent = JSON.parse((req.body as { text: string }).text);
    // A cart found by its device holds that device id exactly (one found by its customer may hold another).
    if (typeof sent.device_id === "string" && sent.customer_id == null) {
      expect(JSON.parse(text).device_id).toBe(sent.device_id);
    }
  }
  if (status === 200 && req.method === "POST" && /^\/carts\/[^/]+\/items$/.test(req.path)) {
    // Stored as sent or refused: the line added holds exactly the options the client sent.
    const sent = JSON.parse((req.body as { text: string }).text);
    const lines = JSON.parse(text).items as Array<{ product_id: string; options: unknown }>;
    expect(lines.map((l) => stable([l.product_id, l.options])), `${where}: ${text.slice(0, 300)}`)
      .toContain(stable([sent.product_id, sent.options ?? {}]));
  }
  if (status >= 300 && req.method !== "HEAD") {
    const error = JSON.parse(text).error;
    expect(Object.keys(ERROR_STATUS), `${where}: ${text.slice(0, 300)}`).toContain(error.code);
    expect(ERROR_STATUS[error.code as keyof typeof ERROR_STATUS]).toBe(status);
    expect(error.message).toEqual(expect.any(String));
    expect(error).toHaveProperty("details");
  }
}

async function cartCount(): Promise<number> {
  const [{ n }] = await db.sql`select count(*)::int as n from pos.carts`;
  return n;
}

function request(
  method: fc.Arbitrary<string>,
  path: fc.Arbitrary<string>,
  fields: string[],
): fc.Arbitrary<Fuzzed> {
  return fc.record({ method, path, query, body: body(fields), headers });
}

type Pool = "carts" | "entries" | "none";
/** The contract's routes: path, the ids they take, the fields their body takes (and, fuzzed alongside, every other). */
const ROUTES: Array<[string, (id: string, sub: string) => string, Pool, string[]]> = [
  ["POST", () => "/carts", "none", ["location_id", "customer_id", "device_id"]],
  ["GET", () => "/carts", "none", []],
  ["GET", (id) => `/carts/${id}`, "carts", []],
  ["GET", (id) => `/carts/${id}/history`, "carts", []],
  ["POST", (id) => `/carts/${id}/items`, "carts", ["product_id", "quantity", "options", "expected_version"]],
  ["PATCH", (id, sub) => `/carts/${id}/items/${sub}`, "carts", ["quantity", "expected_version"]],
  ["DELETE", (id, sub) => `/carts/${id}/items/${sub}`, "carts", []],
  ["POST", (id) => `/carts/${id}/lock`, "carts", ["checkout_ref", "ttl_seconds", "expected_version"]],
  ["PATCH", (id) => `/carts/${id}/lock`, "carts", ["lock_token", "checkout_ref", "expected_version"]],
  ["DELETE", (id) => `/carts/${id}/lock`, "carts", ["lock_token", "expected_version"]],
  ["POST", (id) => `/carts/${id}/checkout`, "carts", [
    "lock_token",
    "checkout_ref",
    "paid_total_cents",
    "expected_version",
  ]],
  ["POST", () => "/queue", "none", ["location_id", "customer_id"]],
  ["GET", () => "/queue", "none", []],
  ["POST", () => "/queue/next", "none", ["location_id"]],
  ["POST", (id) => `/queue/${id}/complete`, "entries", []],
  ["DELETE", (id) => `/queue/${id}`, "entries", []],
];

const goodQuery = fc.oneof(
  fc.constantFrom(LOCATION_A1, LOCATION_A2, LOCATION_B1).map((l) => `?location_id=${l}`),
  fc.integer({ min: 1, max: 40 }).map((v) => `?expected_version=${v}`),
);

describe("fuzzing every route over HTTP", () => {
  for (const [method, path, pool, fields] of ROUTES) {
    it(`${method} ${path(":id", ":item_id")}: no 5xx, every refusal a contract error`, async () => {
      const id = pool === "none" ? segment : fc.oneof(
        { weight: 6, arbitrary: pick(() => ids[pool]) },
        { weight: 1, arbitrary: uuidLike },
        { weight: 1, arbitrary: segment },
      );
      const sub = fc.oneof({ weight: 6, arbitrary: pick(() => ids.items) }, { weight: 1, arbitrary: segment });
      const paths = fc.tuple(id, sub).map(([i, s]) => path(String(i), String(s)));
      const fuzzed = fc.record({
        method: fc.constant(method),
        path: paths,
        body: body(fields),
        headers,
        query: fc.oneof({ weight: 2, arbitrary: goodQuery }, { weight: 1, arbitrary: query }),
      });
      // One in four as a till would send it, so that each route is also fuzzed past its validation.
      const valid = fc.record({
        method: fc.constant(method),
        path: paths,
        body: fc.tuple(...fields.map((f) => VALID_FOR_A[f]))
          .map((values) => ({ text: toJson(Object.fromEntries(fields.map((f, i) => [f, values[i]]))) })),
        headers: fc.record({
          auth: fc.constant(`Bearer ${tokens[0]}`),
          contentType: fc.constant("application/json"),
          idempotencyKey: fc.option(fc.uuid(), { nil: undefined }),
        }),
        query: method === "GET" ? goodQuery : fc.constant(""),
      });
      const req = fc.oneof({ weight: 3, arbitrary: fuzzed }, { weight: 1, arbitrary: valid });
      validated = 0;
      await fc.assert(fc.asyncProperty(req, judge), { numRuns: 40 });
      // A fuzz that never gets past validation proves nothing about the RPC behind it.
      expect(validated, "no request got past validation").toBeGreaterThan(0);
    }, 60_000);
  }

  it("POST /carts/:id/items with arbitrary options: stored exactly as sent, or refused", async () => {
    const options = fc.oneof(VALID.options, nastyValue, fc.dictionary(nastyString, nastyValue, { maxKeys: 3 }));
    const req = fc.record({
      method: fc.constant("POST"),
      path: pick(() => ids.carts.slice(0, 2)).map((id) => `/carts/${id}/items`),
      query: fc.constant(""),
      headers: fc.constant({ auth: `Bearer ${tokens[0]}`, contentType: "application/json" }),
      body: fc.tuple(fc.constantFrom(...PRODUCT_A), fc.integer({ min: 1, max: 3 }), options)
        .map(([product_id, quantity, options]) => ({ text: toJson({ product_id, quantity, options }) })),
    });
    validated = 0;
    await fc.assert(fc.asyncProperty(req, judge), { numRuns: 120 });
    expect(validated, "no options were stored").toBeGreaterThan(0);
  }, 60_000);

  it("POST /carts with arbitrary device ids: stored exactly as sent, or refused", async () => {
    const req = fc.record({
      method: fc.constant("POST"),
      path: fc.constant("/carts"),
      query: fc.constant(""),
      headers: fc.constant({ auth: `Bearer ${tokens[0]}`, contentType: "application/json" }),
      body: fc.oneof(nastyString, rawEscape, fc.string({ unit: "binary", minLength: 1, maxLength: 40 }))
        .map((device_id) => ({ text: toJson({ location_id: LOCATION_A1, device_id }) })),
    });
    validated = 0;
    await fc.assert(fc.asyncProperty(req, judge), { numRuns: 60 });
    expect(validated, "no device id was stored").toBeGreaterThan(0);
  }, 60_000);

  it("any method and path at all", async () => {
    const method = fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "HEAD", "QUERY");
    const path = fc.tuple(fc.constantFrom("carts", "queue", "nothing", ""), fc.array(segment, { maxLength: 4 }))
      .map(([fn, rest]) => `/${[fn, ...rest].join("/")}`);
    await fc.assert(fc.asyncProperty(request(method, path, FIELDS), judge), { numRuns: 300 });
  }, 60_000);

  it("POST /rest/v1/rpc/<name>, as supabase.rpc() calls it: no 5xx, PostgREST's error shape", async () => {
    const calls: Array<[string, Record<string, fc.Arbitrary<unknown>>]> = [
      ["get_or_create_cart", {
        p_location_id: VALID.location_id,
        p_customer_id: VALID.customer_id,
        p_device_id: VALID.device_id,
      }],
      ["add_item", {
        p_cart_id: pick(() => ids.carts),
        p_product_id: VALID.product_id,
        p_quantity: VALID.quantity,
        p_options: VALID.options,
        p_expected_version: VALID.expected_version,
      }],
      ["set_item_quantity", {
        p_cart_id: pick(() => ids.carts),
        p_item_id: pick(() => ids.items),
        p_quantity: VALID.quantity,
      }],
      ["lock_cart", {
        p_cart_id: pick(() => ids.carts),
        p_checkout_ref: VALID.checkout_ref,
        p_ttl_seconds: VALID.ttl_seconds,
      }],
      ["complete_checkout", {
        p_cart_id: pick(() => ids.carts),
        p_lock_token: VALID.lock_token,
        p_checkout_ref: VALID.checkout_ref,
        p_paid_total_cents: VALID.paid_total_cents,
      }],
      ["add_to_queue", { p_location_id: VALID.location_id, p_customer_id: VALID.customer_id }],
    ];
    const req = fc.oneof(...calls.map(([name, params]) =>
      fc.record({
        name: fc.constant(name),
        args: fc.tuple(
          ...Object.entries(params).map(([param, valid]) =>
            fc.option(
              fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: nastyValue })
                .map((value) => [param, value] as const),
              { freq: 6, nil: null },
            )
          ),
        ).map((pairs) => Object.fromEntries(pairs.filter((p) => p !== null) as Array<readonly [string, unknown]>)),
        token: fc.nat().map((n) => tokens[n % 4 === 0 ? 1 : 0]),
      })
    ));
    await fc.assert(
      fc.asyncProperty(req, async ({ name, args, token }) => {
        const res = await fetch(`${server.apiUrl}/rest/v1/rpc/${name}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, apikey: server.anonKey, "content-type": "application/json" },
          body: toJson(args),
        });
        const text = await res.text();
        expect(res.status, `${name} answered ${res.status}: ${text.slice(0, 300)}`).toBeLessThan(500);
        if (res.status >= 300) {
          expect(JSON.parse(text)).toMatchObject({ code: expect.any(String), message: expect.any(String) });
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it("leaves the server up and the data consistent", async () => {
    // What the fuzz reached, for whoever reads the run.
    console.log([...statuses].sort().map(([k, n]) => `${k}: ${n}`).join(", "));
    const res = await server.call("GET", `/carts/${ids.carts[0]}`, { token: tokens[0] });
    expect(res.status).toBe(200);
    await assertInvariants(db.sql);
  });
});
