// Invariant 7 for every keyed RPC, with the RPCs and their arguments read from
// the catalog (pg_proc), not listed here: a key is bound to the whole request.
// Each keyed RPC is called once with a key, then again with the same key and one
// argument changed, for each argument in turn: every such call must be refused
// with idempotency_key_reused. An argument the RPC leaves out of its request
// would replay the first answer instead, and this file fails for that RPC and
// that argument. A new argument without an entry in `anotherValue` fails too.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { type Caller, expectError, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { CUSTOMER_A, LOCATION_A1, LOCATION_A2, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";

const KEY = "p_idempotency_key";
type Args = Record<string, unknown>;

let db: TestDatabase;
let ann: Caller;
let keyed: Array<{ rpc: string; params: string[] }>;

beforeAll(async () => {
  db = await freshDatabase();
  ann = db.as(STAFF_A1);
  keyed = (await db.sql<{ rpc: string; params: string[] }[]>`
    select p.proname as rpc, p.proargnames as params
      from pg_proc p
     where p.pronamespace = 'public'::regnamespace and ${KEY} = any(p.proargnames)
     order by 1`).map((r) => ({ rpc: r.rpc, params: r.params.filter((p) => p !== KEY) }));
});

const call = (rpc: string, args: Args) => ann.rpc(rpc as never, args as never);

/** A cart of store A at LOCATION_A1 with one line; `locked` also locks it. */
async function cartWithALine(locked = false) {
  const open = await call("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: `keyed-${randomUUID()}` });
  let cart = await call("add_item", { p_cart_id: open.id, p_product_id: PRODUCT_A[0] });
  if (locked) cart = await call("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "till-1" });
  return cart;
}

/**
 * Arguments with which each keyed RPC succeeds, every argument given: what a
 * first request sends. Setting up the state an RPC needs is per RPC; the
 * arguments themselves are checked against the catalog below.
 */
const firstRequest: Record<string, () => Promise<Args>> = {
  async add_item() {
    const cart = await cartWithALine();
    return {
      p_cart_id: cart.id,
      p_product_id: PRODUCT_A[1],
      p_quantity: 2,
      p_options: { size: "L" },
      p_expected_version: cart.version,
    };
  },
  async set_item_quantity() {
    const cart = await cartWithALine();
    return { p_cart_id: cart.id, p_item_id: cart.items[0].id, p_quantity: 3, p_expected_version: cart.version };
  },
  async remove_item() {
    const cart = await cartWithALine();
    return { p_cart_id: cart.id, p_item_id: cart.items[0].id, p_expected_version: cart.version };
  },
  async lock_cart() {
    const cart = await cartWithALine();
    return { p_cart_id: cart.id, p_checkout_ref: "till-1", p_ttl_seconds: 300, p_expected_version: cart.version };
  },
  async update_cart_lock() {
    const cart = await cartWithALine(true);
    return {
      p_cart_id: cart.id,
      p_lock_token: cart.lock.token,
      p_checkout_ref: "till-2",
      p_expected_version: cart.version,
    };
  },
  async unlock_cart() {
    const cart = await cartWithALine(true);
    return { p_cart_id: cart.id, p_lock_token: cart.lock.token, p_expected_version: cart.version };
  },
  async complete_checkout() {
    const cart = await cartWithALine(true);
    return {
      p_cart_id: cart.id,
      p_lock_token: cart.lock.token,
      p_checkout_ref: "till-1",
      p_paid_total_cents: cart.lock.total_cents,
      p_expected_version: cart.version,
    };
  },
  async add_to_queue() {
    return { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[0] };
  },
  async call_next() {
    await call("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[1] });
    return { p_location_id: LOCATION_A1 };
  },
};

/**
 * For each argument, a different value that passes every check made before the
 * key is looked at (the input's shape, the caller's store): so a refusal can
 * only come from the key.
 */
const anotherValue: Record<string, (first: any) => unknown | Promise<unknown>> = {
  p_cart_id: async () => (await cartWithALine()).id,
  p_product_id: (first) => PRODUCT_A.find((p) => p !== first),
  p_item_id: () => randomUUID(),
  p_lock_token: () => randomUUID(),
  p_location_id: (first) => (first === LOCATION_A1 ? LOCATION_A2 : LOCATION_A1),
  p_customer_id: (first) => CUSTOMER_A.find((c) => c !== first),
  p_quantity: (first) => first + 1,
  p_ttl_seconds: (first) => first + 1,
  p_paid_total_cents: (first) => first + 1,
  p_expected_version: (first) => first + 7,
  p_checkout_ref: (first) => `${first}-other`,
  p_options: (first) => ({ ...first, extra: "shot" }),
};

describe("the keyed RPCs, read from the catalog", () => {
  it("are the ones this file knows how to call, and each opens and closes through the one pair of helpers", async () => {
    expect(keyed.map((k) => k.rpc).sort()).toEqual(Object.keys(firstRequest).sort());
    for (const { rpc } of keyed) {
      const [{ src }] = await db.sql`select prosrc as src from pg_proc
        where oid = ${"public." + rpc}::regproc`;
      expect(src, rpc).toContain(`pos.keyed_open('${rpc}',`);
      expect(src, rpc).toContain("pos.keyed_close(v_keyed,");
    }
  });

  it("each has a changed value for every argument", () => {
    const params = new Set(keyed.flatMap((k) => k.params));
    expect([...params].filter((p) => !(p in anotherValue)), "arguments with no entry in anotherValue").toEqual([]);
  });

  it("each binds its key to every argument: the same key with any one argument changed is idempotency_key_reused", async () => {
    for (const { rpc, params } of keyed) {
      const first = await firstRequest[rpc]();
      expect(Object.keys(first).sort(), `${rpc}'s first request gives every argument`).toEqual([...params].sort());
      const key = `keyed-${rpc}-${randomUUID()}`;
      const answer = await call(rpc, { ...first, [KEY]: key });

      // The stored request holds every argument, in the catalog's order, as sent.
      const [stored] = await db.sql`select request from pos.idempotency_keys where key = ${key}`;
      expect(stored?.request, `${rpc} stored its request`).toEqual({ rpc, args: params.map((p) => first[p]) });
      // The same request again is a replay, not a refusal: the key was taken.
      expect(await call(rpc, { ...first, [KEY]: key }), `${rpc} replays`).toEqual(answer);

      for (const param of params) {
        const changed = { ...first, [param]: await anotherValue[param](first[param]), [KEY]: key };
        expect(changed[param], `${rpc}.${param} has another value`).not.toEqual(first[param]);
        const refused = await expectError(call(rpc, changed), "idempotency_key_reused")
          .catch((error) => {
            throw new Error(`${rpc} with ${param} changed and the same key: ${error.message}`);
          });
        expect(refused.api.details, `${rpc}.${param}`).toEqual({ first_request: rpc });
      }
    }
  });

  it("each still replays a request stored before the arguments were kept as one list, and refuses a changed one", async () => {
    for (const { rpc, params } of keyed) {
      const first = await firstRequest[rpc]();
      const key = `keyed-named-${rpc}-${randomUUID()}`;
      const answer = await call(rpc, { ...first, [KEY]: key });
      // The shape the RPCs stored before: each argument by its name without `p_`.
      await db.sql`update pos.idempotency_keys
                      set request = ${
        db.sql.json({ rpc, ...Object.fromEntries(params.map((p) => [p.slice(2), first[p]])) } as never)
      }
                    where key = ${key}`;
      expect(await call(rpc, { ...first, [KEY]: key }), `${rpc} replays`).toEqual(answer);
      const param = params[params.length - 1];
      const changed = { ...first, [param]: await anotherValue[param](first[param]), [KEY]: key };
      await expectError(call(rpc, changed), "idempotency_key_reused");
    }
  });

  it("none takes a key longer than 255 characters or an empty one", async () => {
    for (const { rpc } of keyed) {
      const first = await firstRequest[rpc]();
      for (const key of ["", "k".repeat(256)]) {
        await expectError(call(rpc, { ...first, [KEY]: key }), "invalid_input");
      }
    }
  });
});
