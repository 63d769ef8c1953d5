// A device signed in with Supabase Auth (the local /auth/v1): the library reads
// what it follows again when supabase-js refreshes the token.
import { createClient } from "@supabase/supabase-js";
import { beforeAll, expect, it } from "vitest";
import { createOnecart } from "../../client/src/index.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A } from "../helpers/fixture.ts";
import { NAIVE, until } from "./device.ts";
import { createNetwork } from "./network.ts";

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
});

it("a refreshed token: the followed cart is read again, and taps go on with the new token", async () => {
  const network = createNetwork();
  const supabase = createClient(server.apiUrl, server.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { fetch: network.fetch },
    realtime: { transport: network.WebSocket as never },
  });
  const signIn = await supabase.auth.signInWithPassword({
    email: "ana@blowing-rock.example",
    password: "onecart-local",
  });
  expect(signIn.error).toBeNull();
  const onecart = createOnecart({ supabase, testing: { disableIdempotencyKeys: NAIVE } });
  try {
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "auth-refresh" });
    cart.live();
    await until(() => cart.getState().live === "live", "the cart is live");
    // The read that joining starts must be over: a read still in flight when the
    // token is refreshed would be shared, and no new one sent.
    await until(() => network.sent.includes(`GET /functions/v1/carts/${cart.id}`), "the cart is read on joining");
    await until(() => onecart.queryClient.isFetching() === 0, "the joining read is answered");
    const before = network.sent.length;
    const refreshed = await supabase.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    await until(
      () => network.sent.slice(before).includes(`GET /functions/v1/carts/${cart.id}`),
      "the cart is read again after the refresh",
    );
    network.loseNextAnswers(1, (url) => url.endsWith("/items"));
    expect(await cart.addItem(PRODUCT_A[0]).done).toMatchObject({ version: 2, item_count: 1 });
  } finally {
    await onecart.destroy();
  }
});

it("taps pending when the till signs out wait for the next sign-in, then land once; none is dropped", async () => {
  const network = createNetwork();
  const supabase = createClient(server.apiUrl, server.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { fetch: network.fetch },
    realtime: { transport: network.WebSocket as never },
  });
  const signIn = (email: string) => supabase.auth.signInWithPassword({ email, password: "onecart-local" });
  expect((await signIn("ana@blowing-rock.example")).error).toBeNull();
  const onecart = createOnecart({ supabase, testing: { disableIdempotencyKeys: NAIVE } });
  const rejected: string[] = [];
  onecart.onRejected((r) => rejected.push(r.error.code));
  try {
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "auth-signed-out" });
    await until(() => cart.getState().confirmed !== null, "the cart is read");
    // The first try of the first tap is answered busy (Retry-After 2 s); the till signs out meanwhile.
    const busy = () =>
      new Response(JSON.stringify({ error: { code: "busy", message: "Busy.", details: null } }), {
        status: 503,
        headers: { "content-type": "application/json", "retry-after": "2" },
      });
    network.answerNext(1, busy, (url) => url.endsWith("/items"));
    const taps = [cart.addItem(PRODUCT_A[0]), cart.addItem(PRODUCT_A[1])];
    await until(() => (cart.getState().pending[0]?.failureCount ?? 0) > 0, "the first tap waits to be retried");
    expect((await supabase.auth.signOut()).error).toBeNull();
    await until(
      () => cart.getState().pending.some((p) => p.status === "signed_out"),
      "the refused tap waits for a session",
    );
    expect(cart.getState().pending).toHaveLength(2);
    expect(rejected).toEqual([]);
    expect((await db.sql`select count(*)::int as n from pos.cart_items where cart_id = ${cart.id}`)[0].n)
      .toBe(0);

    expect((await signIn("ben@blowing-rock.example")).error).toBeNull();
    const answers = await Promise.all(taps.map((t) => t.done));
    expect(answers[1]).toMatchObject({ item_count: 2 });
    expect(rejected).toEqual([]);
    const lines = await db.sql`select product_id, quantity from pos.cart_items where cart_id = ${cart.id}`;
    expect(lines.map((l) => [l.product_id, l.quantity]).sort()).toEqual(
      [[PRODUCT_A[0], 1], [PRODUCT_A[1], 1]].sort(),
    );
  } finally {
    await onecart.destroy();
  }
});

it("a tap refused not_authenticated while a session exists is sent once more with the session's token", async () => {
  const network = createNetwork();
  const supabase = createClient(server.apiUrl, server.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { fetch: network.fetch },
    realtime: { transport: network.WebSocket as never },
  });
  const signIn = await supabase.auth.signInWithPassword({
    email: "ana@blowing-rock.example",
    password: "onecart-local",
  });
  expect(signIn.error).toBeNull();
  const onecart = createOnecart({ supabase, testing: { disableIdempotencyKeys: NAIVE } });
  try {
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "auth-stale-token" });
    // As a request sent with a token that expired while the refresh could not reach Auth.
    const stale = () =>
      new Response(JSON.stringify({ error: { code: "not_authenticated", message: "Expired.", details: null } }), {
        status: 401,
        headers: { "content-type": "application/json" },
      });
    network.answerNext(1, stale, (url) => url.endsWith("/items"));
    expect(await cart.addItem(PRODUCT_A[0]).done).toMatchObject({ item_count: 1 });
    // Refused again with the session's own token, it is an answer: rejected, not retried forever.
    network.answerNext(2, stale, (url) => url.endsWith("/items"));
    await expect(cart.addItem(PRODUCT_A[1]).done).rejects.toMatchObject({ code: "not_authenticated" });
  } finally {
    await onecart.destroy();
  }
});
