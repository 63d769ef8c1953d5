// supabase.rpc() against the local stack's /rest/v1/rpc behaves like the edge
// functions: the same role and claims reach Postgres, so auth.uid(), grants and
// row security give the same answers either way.
import { createClient } from "@supabase/supabase-js";
import { beforeAll, expect, it } from "vitest";
import { freshDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, LOCATION_A2, PRODUCT_A, STAFF_A1, STAFF_B1 } from "../helpers/fixture.ts";

let server: TestServer;
let ann: string;
beforeAll(async () => {
  server = await startTestServer(await freshDatabase());
  ann = await server.token(STAFF_A1);
});

it("gives the same cart, history and actor through supabase.rpc() and the functions", async () => {
  const client = server.client(ann);
  const viaRpc = await client.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "parity" });
  expect(viaRpc.error).toBeNull();
  const viaFunction = await client.functions.invoke("carts", {
    body: { location_id: LOCATION_A1, device_id: "parity" },
  });
  expect(viaFunction.data).toEqual(viaRpc.data);

  const added = await client.rpc("add_item", { p_cart_id: viaRpc.data.id, p_product_id: PRODUCT_A[0] });
  expect(added.data).toMatchObject({ version: 2, item_count: 1 });
  const history = await client.functions.invoke(`carts/${viaRpc.data.id}/history`, { method: "GET" });
  expect(history.data.map((e: any) => [e.kind, e.actor_id])).toEqual([["created", STAFF_A1], ["item_added", STAFF_A1]]);
});

it("answers errors with the same codes, PostgREST's shape and statuses", async () => {
  const client = server.client(ann);
  const cart = (await client.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "parity-2" })).data;
  const stale = await client.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0], p_expected_version: 9 });
  expect(stale.status).toBe(409);
  expect(stale.error).toMatchObject({ code: "PT409", message: "version_conflict" });
  expect(JSON.parse(stale.error!.hint)).toEqual({ current_version: 1 });

  const other = await server.client(await server.token(STAFF_B1)).rpc("get_cart", { p_cart_id: cart.id });
  expect([other.status, other.error?.message]).toEqual([404, "not_found"]);

  const anon = createClient(server.apiUrl, server.anonKey);
  const denied = await anon.rpc("get_cart", { p_cart_id: cart.id });
  expect([denied.status, denied.error?.code]).toEqual([401, "42501"]);

  const forbidden = await client.rpc("expire_cart_locks");
  expect([forbidden.status, forbidden.error?.message]).toEqual([403, "forbidden"]);
  const bad = await client.rpc("get_cart", { p_cart_id: "nope" });
  expect(bad.status).toBe(400);
  const empty = await client.rpc("call_next", { p_location_id: LOCATION_A2 });
  expect([empty.status, empty.data]).toEqual([200, null]);
});
