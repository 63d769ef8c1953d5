// A device signed in with Supabase Auth (the local /auth/v1): the library reads
// what it follows again when supabase-js refreshes the token.
import { createClient } from "@supabase/supabase-js";
import { beforeAll, expect, it } from "vitest";
import { createOnecart } from "../../client/src/index.ts";
import { freshDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A } from "../helpers/fixture.ts";
import { NAIVE, until } from "./device.ts";
import { createNetwork } from "./network.ts";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(await freshDatabase());
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
