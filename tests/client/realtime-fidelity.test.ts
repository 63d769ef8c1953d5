// @onecart/client against Realtime as a project runs it (the local stand-in
// follows upstream: tests/platform/realtime.test.ts): it leaves its channels on
// SIGNED_OUT, since Realtime ignores the key supabase-js pushes then; it reads
// again on `replication_ready`, since a cold project drops what was committed
// before its replication started; and a broadcast the plan's limit dropped is a
// gap the next broadcast reveals and a read fills.
import { createClient } from "@supabase/supabase-js";
import { beforeAll, describe, expect, it } from "vitest";
import { createOnecart } from "../../client/src/index.ts";
import { LOCAL_PUBLISHABLE_KEY, startServer } from "../../scripts/lib/stack.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A2 } from "../helpers/fixture.ts";
import { startTestServer, TEST_JWT_SECRET, type TestServer } from "../helpers/server.ts";
import { NAIVE, startDevice, until } from "./device.ts";
import { createNetwork } from "./network.ts";

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
});

const logged = (lines: string[], match: (line: any) => boolean) =>
  lines.some((text) => {
    try {
      return match(JSON.parse(text));
    } catch {
      return false;
    }
  });

describe("signed out", () => {
  it("leaves its channels and reads nothing more", async () => {
    const network = createNetwork();
    // A till made with the project's publishable key, as Supabase recommends now:
    // on SIGNED_OUT supabase-js pushes that key to Realtime, which ignores it.
    const supabase = createClient(server.apiUrl, LOCAL_PUBLISHABLE_KEY, {
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
      const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "signed-out" });
      cart.live();
      const queue = onecart.queue(LOCATION_A1);
      queue.live();
      await until(() => cart.getState().live === "live" && queue.getState().live === "live", "both are live");
      await until(() => onecart.queryClient.isFetching() === 0, "the joining reads are answered");

      expect((await supabase.auth.signOut()).error).toBeNull();
      await until(() => supabase.getChannels().length === 0, "every channel left");
      expect([cart.getState().live, queue.getState().live]).toEqual(["off", "off"]);

      // Another device changes the cart; this one neither hears of it nor reads it.
      const reads = network.sent.length;
      const other = startDevice(server, await server.token(STAFF_A2));
      const watched = other.onecart.cart(cart.id);
      watched.live();
      await until(() => watched.getState().live === "live", "the other device is live");
      await other.onecart.api.addItem({ cart_id: cart.id, product_id: PRODUCT_A[0] });
      await until(() => watched.getState().confirmed?.version === 2, "the other device sees its change");
      onecart.refetchLive();
      await until(() => onecart.queryClient.isFetching() === 0, "nothing is being read");
      expect(network.sent.slice(reads).filter((r) => r.startsWith("GET"))).toEqual([]);
      expect(cart.getState().confirmed?.version).toBe(1);
    } finally {
      await onecart.destroy();
    }
  });
});

describe("a cold project", () => {
  it("reads again when replication_ready comes: a change made before the replication started is shown", async () => {
    // An open transaction holds back the creation of the replication slot, as a
    // project's replication is still starting when the first device joins.
    const session = db.pool(1);
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const holding = session.begin(async (tx) => {
      await tx`select txid_current()`;
      opened();
      await ended;
    });
    await open;
    const output: string[] = [];
    const cold = await startServer({
      dbUrl: db.url,
      jwtSecret: TEST_JWT_SECRET,
      onOutput: (text) => output.push(...text.split("\n").filter(Boolean)),
    });
    try {
      const coldServer = { ...server, apiUrl: cold.apiUrl } as TestServer;
      const { onecart } = startDevice(coldServer, await server.token(STAFF_A2));
      const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "cold-start" });
      cart.live();
      await until(() => cart.getState().live === "live", "the cart is live");
      await until(() => onecart.queryClient.isFetching() === 0, "the joining read is answered");
      const changed = await db.as(STAFF_A2).rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[1] });
      end();
      await holding;
      await until(
        () => logged(output, (l) => l.realtime === "replication" && l.event === "started"),
        "the replication to start",
      );
      await until(() => cart.getState().confirmed?.version === changed.version, "the change made before it started");
      await onecart.destroy();
    } finally {
      end();
      await holding;
      await cold.stop();
    }
  }, 90_000);
});

describe("over the Free plan's message rate", () => {
  it("a dropped broadcast is a gap: the next one reveals it and a read fills it", async () => {
    const free = await startTestServer(db, { env: { ONECART_REALTIME_PLAN: "free" } });
    const { onecart } = startDevice(free, await free.token(STAFF_A2));
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "over-limit" });
    cart.live();
    await until(() => cart.getState().live === "live", "the cart is live");
    const staff = db.as(STAFF_A2);
    const first = await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] });
    await until(() => cart.getState().confirmed?.version === first.version, "a change under the limit");

    // Another feature of the project broadcasts 7,000 messages at once: over 100 a
    // second averaged over the minute Realtime counts on.
    await db.sql`select realtime.send(jsonb_build_object('n', g), 'noise', 'other-feature', true)
                   from generate_series(1, 7000) g`;
    await until(
      () => logged(free.output, (l) => l.limit === "events_per_second" && l.triggered === true),
      "the limit to trigger",
    );
    const dropped = await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[1] });
    await until(
      () => logged(free.output, (l) => l.msg === "UnableToBroadcastChanges: too_many_requests"),
      "the change's broadcast to be dropped",
    );
    expect(cart.getState().confirmed?.version).toBe(first.version);

    await until(
      () => logged(free.output, (l) => l.limit === "events_per_second" && l.triggered === false),
      "the rate to fall under the limit",
      90_000,
    );
    const next = await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[2] });
    expect(next.version).toBe(dropped.version + 1);
    await until(() => cart.getState().confirmed?.version === next.version, "the device to catch up");
    expect(cart.getState().cart).toEqual(await staff.rpc("get_cart", { p_cart_id: cart.id }));
  }, 150_000);
});
