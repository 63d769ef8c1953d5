// Invariant 7 across the upgrade that changed how a keyed request is stored: keys
// written by the RPCs as they were before unify_keyed_mutation_prologue (each
// argument by name), then `supabase db push`, then the same requests again. Each
// must replay its first answer, and each with one argument changed must be
// idempotency_key_reused. tests/db/keyed-requests.test.ts writes the old shape
// by hand; this one has the old code write it.
import { randomUUID } from "node:crypto";
import { beforeAll, expect, it } from "vitest";
import { callRpc, type RpcName } from "../../functions/_shared/rpc.ts";
import { expectError, type Sql, staffClaims } from "../helpers/db.ts";
import { databaseBefore, type OlderDatabase } from "../helpers/migrations.ts";
import { CUSTOMER_A, LOCATION_A1, LOCATION_A2, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";

const FIRST_WITH_ONE_LIST = "20261204192441_unify_keyed_mutation_prologue.sql";
let db: OlderDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await databaseBefore(`keyedup_${process.pid}`, FIRST_WITH_ONE_LIST);
  sql = db.sql;
}, 120_000);

type Args = Record<string, unknown>;
// deno-lint-ignore no-explicit-any
const call = (rpc: RpcName, args: Args): Promise<any> => callRpc(sql as never, rpc, args, staffClaims(STAFF_A1));

async function cartWithALine(locked = false) {
  const open = await call("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: `up-${randomUUID()}` });
  let cart = await call("add_item", { p_cart_id: open.id, p_product_id: PRODUCT_A[0] });
  if (locked) cart = await call("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "till-1" });
  return cart;
}

it("replays each keyed request the old code stored, and refuses the same key for a changed one", async () => {
  // Each request as a till sends it, some arguments left to their defaults; and
  // the argument to change for the refusal.
  const requests: Array<[RpcName, () => Promise<Args>, string, unknown]> = [
    ["add_item", async () => ({ p_cart_id: (await cartWithALine()).id, p_product_id: PRODUCT_A[1] }), "p_quantity", 2],
    [
      "add_item",
      async () => {
        const cart = await cartWithALine();
        return { p_cart_id: cart.id, p_product_id: PRODUCT_A[1], p_quantity: 2, p_options: { size: "L", shots: 2.0 } };
      },
      "p_options",
      { size: "M" },
    ],
    [
      "set_item_quantity",
      async () => {
        const cart = await cartWithALine();
        return { p_cart_id: cart.id, p_item_id: cart.items[0].id, p_quantity: 3 };
      },
      "p_quantity",
      4,
    ],
    [
      "remove_item",
      async () => {
        const cart = await cartWithALine();
        return { p_cart_id: cart.id, p_item_id: cart.items[0].id, p_expected_version: cart.version };
      },
      "p_expected_version",
      99,
    ],
    [
      "lock_cart",
      async () => ({ p_cart_id: (await cartWithALine()).id, p_checkout_ref: "till-1" }),
      "p_ttl_seconds",
      60,
    ],
    [
      "update_cart_lock",
      async () => {
        const cart = await cartWithALine(true);
        return { p_cart_id: cart.id, p_lock_token: cart.lock.token, p_checkout_ref: "till-2" };
      },
      "p_checkout_ref",
      "till-3",
    ],
    [
      "unlock_cart",
      async () => {
        const cart = await cartWithALine(true);
        return { p_cart_id: cart.id, p_lock_token: cart.lock.token };
      },
      "p_expected_version",
      99,
    ],
    [
      "complete_checkout",
      async () => {
        const cart = await cartWithALine(true);
        return {
          p_cart_id: cart.id,
          p_lock_token: cart.lock.token,
          p_checkout_ref: "till-1",
          p_paid_total_cents: cart.lock.total_cents,
        };
      },
      "p_paid_total_cents",
      1,
    ],
    [
      "add_to_queue",
      () => Promise.resolve({ p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[0] }),
      "p_customer_id",
      CUSTOMER_A[1],
    ],
    [
      "call_next",
      async () => {
        await call("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[1] });
        return { p_location_id: LOCATION_A1 };
      },
      "p_location_id",
      LOCATION_A2,
    ],
  ];

  const sent: Array<{ rpc: RpcName; args: Args; answer: unknown; param: string; other: unknown }> = [];
  for (const [rpc, first, param, other] of requests) {
    const args = { ...(await first()), p_idempotency_key: `up-${rpc}-${randomUUID()}` };
    sent.push({ rpc, args, answer: await call(rpc, args), param, other });
  }
  const stored = await sql`select request from pos.idempotency_keys where key = ${sent[0].args
    .p_idempotency_key as string}`;
  expect(stored[0].request, "the old code names each argument").toHaveProperty("cart_id");

  await db.upgrade();

  for (const { rpc, args, answer, param, other } of sent) {
    const label = `${rpc}(${Object.keys(args).join(", ")})`;
    expect(await call(rpc, args), `${label} replays`).toEqual(answer);
    await expectError(call(rpc, { ...args, [param]: other }), "idempotency_key_reused").catch((error) => {
      throw new Error(`${label} with ${param} changed: ${error.message}`);
    });
  }
});
