// The local Realtime against Supabase Realtime's current rules
// (lib/realtime_web/channels/realtime_channel.ex, user_socket.ex,
// lib/realtime/tenants.ex, tenants/replication_connection.ex) and the plan
// limits of supabase.com/docs/guides/realtime/limits.
import { request } from "node:http";
import { createClient } from "@supabase/supabase-js";
import { beforeAll, describe, expect, it } from "vitest";
import { LOCAL_PUBLISHABLE_KEY } from "../../scripts/lib/stack.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1, STAFF_A2 } from "../helpers/fixture.ts";
import { type Frame, openSocket, type PhoenixSocket } from "../helpers/phoenix.ts";
import { SHORT_REALTIME_BACKOFFS } from "../helpers/realtime.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { until } from "../helpers/until.ts";

let db: TestDatabase;
let server: TestServer;
let free: TestServer;
let cartId: string;
let ann: string;

beforeAll(async () => {
  db = await freshDatabase();
  [server, free] = await Promise.all([
    startTestServer(db),
    startTestServer(db, {
      env: { ONECART_REALTIME_PLAN: "free", ONECART_REALTIME_ALLOW_PUBLIC: "1", ...SHORT_REALTIME_BACKOFFS },
    }),
  ]);
  cartId = (await db.as(STAFF_A1).rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "rt-fidelity" }))
    .id;
  ann = await server.token(STAFF_A1);
});

const logged = (s: TestServer, match: (line: any) => boolean) =>
  s.output.some((text) => {
    try {
      return match(JSON.parse(text));
    } catch {
      return false;
    }
  });

const systemFrames = (socket: PhoenixSocket, topic: string) =>
  socket.frames.filter((f) => f[2] === `realtime:${topic}` && f[3] === "system").map((f) => f[4]);

const broadcasts = (socket: PhoenixSocket, event: string) =>
  socket.frames.filter((f) => f[3] === "broadcast" && f[4].event === event).map((f) => f[4].payload);

/** A private join that opted into replication_ready, once the replication is said to be ready. */
async function joinPrivate(s: TestServer, topic: string, token: string): Promise<PhoenixSocket> {
  const socket = await openSocket(s.apiUrl, s.anonKey);
  const reply = await socket.join(topic, {
    access_token: token,
    config: { private: true, broadcast: { replication_ready: true } },
  });
  expect(reply[4].status).toBe("ok");
  await until(() => systemFrames(socket, topic).some((m) => m.status === "ok"), "replication_ready");
  return socket;
}

describe("a cold project", () => {
  it("starts its replication at the first connection and tells the channels that opted in", async () => {
    const cold = await startTestServer(db);
    const started = () => logged(cold, (l) => l.realtime === "replication" && l.event === "started");
    expect(started()).toBe(false);

    const socket = await openSocket(cold.apiUrl, cold.anonKey);
    const topic = `cart:${cartId}`;
    const reply = await socket.join(topic, {
      access_token: await cold.token(STAFF_A1),
      config: { private: true, broadcast: { replication_ready: true } },
    });
    expect(reply[4]).toEqual({ status: "ok", response: { postgres_changes: [] } });
    await until(() => systemFrames(socket, topic).length > 0, "the replication_ready message");
    expect(systemFrames(socket, topic)[0]).toEqual({
      extension: "system",
      status: "ok",
      message: "Replication connection established",
      channel: topic,
    });
    expect(started()).toBe(true);
    socket.close();
  });
});

describe("sign-out", () => {
  it("an sb_ key pushed as the access token is ignored: a signed-out client keeps its channel", async () => {
    // As a till on a project: supabase-js pushes its publishable key on SIGNED_OUT,
    // and Realtime ignores it, so the channel lives on with the old token.
    const supabase = createClient(server.apiUrl, LOCAL_PUBLISHABLE_KEY, {
      auth: { persistSession: false, autoRefreshToken: false },
    });
    const signIn = await supabase.auth.signInWithPassword({
      email: "ana@blowing-rock.example",
      password: "onecart-local",
    });
    expect(signIn.error).toBeNull();
    const received: any[] = [];
    const statuses: string[] = [];
    let ready!: () => void;
    const replicating = new Promise<void>((resolve) => (ready = resolve));
    await supabase.realtime.setAuth();
    const channel = supabase.channel(`cart:${cartId}`, {
      config: { private: true, broadcast: { replication_ready: true } },
    })
      .on("broadcast", { event: "cart_updated" }, ({ payload }) => received.push(payload))
      .on("system", {}, (m: { status?: string }) => m.status === "ok" && ready())
      .subscribe((status) => statuses.push(status));
    await replicating;

    expect((await supabase.auth.signOut()).error).toBeNull();
    const changed = await db.as(STAFF_A2).rpc("add_item", { p_cart_id: cartId, p_product_id: PRODUCT_A[0] });
    await until(() => received.some((p) => p.version === changed.version), "the change after sign-out");
    expect(statuses).toEqual(["SUBSCRIBED"]);
    await supabase.removeChannel(channel);
  });
});

describe("join errors", () => {
  it("are answered after upstream's 5 s back-off", async () => {
    const socket = await openSocket(server.apiUrl, server.anonKey);
    const sent = performance.now();
    const reply = await socket.join("not-private", { config: { private: false } });
    expect(reply[4]).toEqual({
      status: "error",
      response: { reason: "PrivateOnly: This project only allows private channels" },
    });
    expect(performance.now() - sent).toBeGreaterThanOrEqual(4900);
    socket.close();
  });
});

describe("the Free plan's limits", () => {
  it("drops a database broadcast over 256 KB; one under it is delivered", async () => {
    const topic = `cart:${cartId}`;
    const socket = await joinPrivate(free, topic, ann);
    const send = (event: string, bytes: number) =>
      db.sql`select realtime.send(jsonb_build_object('pad', repeat('x', ${bytes}::int)), ${event}, ${topic}, true)`;
    await send("too_big", 260_000);
    await send("fits", 250_000);
    await until(() => broadcasts(socket, "fits").length === 1, "the payload under the limit");
    expect(broadcasts(socket, "too_big")).toEqual([]);
    expect(logged(free, (l) => l.msg === "UnableToBroadcastChanges: payload_size_exceeded")).toBe(true);
    socket.close();
  });

  it("refuses a socket's 101st channel", async () => {
    const socket = await openSocket(free.apiUrl, free.anonKey);
    for (let i = 1; i <= 100; i++) {
      const reply = await socket.join(`limits-${i}`, { config: { private: false } });
      expect(reply[4].status).toBe("ok");
    }
    const refused = await socket.join("limits-101", { config: { private: false } });
    expect(refused[4]).toEqual({ status: "error", response: { reason: "ChannelRateLimitReached: Too many channels" } });
    socket.close();
  });

  it("over its messages per second, drops database broadcasts and shuts a channel that receives", async () => {
    const topic = `cart:${cartId}`;
    const watcher = await joinPrivate(free, topic, ann);
    const talker = await openSocket(free.apiUrl, free.anonKey);
    expect((await talker.join("chatter", { config: { private: false, broadcast: { self: true } } }))[4].status)
      .toBe("ok");
    // 4,000 broadcasts and their 4,000 deliveries: above 100 a second over the
    // minute Realtime averages on.
    await db
      .sql`select realtime.send(jsonb_build_object('n', g), 'burst', ${topic}, true) from generate_series(1, 4000) g`;
    await until(() => broadcasts(watcher, "burst").length === 4000, "the burst, delivered before the limit counts it");
    await until(
      () => logged(free, (l) => l.limit === "events_per_second" && l.triggered === true),
      "the limit to trigger at the next tick",
    );

    await db.sql`select realtime.send('{"n": 0}'::jsonb, 'dropped', ${topic}, true)`;
    await until(
      () => logged(free, (l) => l.msg === "UnableToBroadcastChanges: too_many_requests"),
      "the broadcast to be dropped",
    );
    expect(broadcasts(watcher, "dropped")).toEqual([]);

    talker.push([null, null, "realtime:chatter", "broadcast", { type: "broadcast", event: "hi", payload: {} }]);
    await until(() => systemFrames(talker, "chatter").length > 0, "the channel to be shut");
    expect(systemFrames(talker, "chatter")[0]).toEqual({
      extension: "system",
      status: "error",
      message: "Too many messages per second",
      channel: "chatter",
    });
    await until(() => talker.frames.some((f: Frame) => f[3] === "phx_close"), "phx_close");
    watcher.close();
    talker.close();
  }, 90_000);
});

describe("a fresh Free project's joins and connections", () => {
  it("refuses joins over 100 a second and disconnects the socket; refuses connections past 200 after 2 s", async () => {
    const fresh = await startTestServer(db, {
      env: { ONECART_REALTIME_PLAN: "free", ONECART_REALTIME_ALLOW_PUBLIC: "1" },
    });
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openSocket(fresh.apiUrl, fresh.anonKey)));
    await Promise.all(sockets.map(async (socket, s) => {
      const replies = await Promise.all(
        Array.from({ length: 100 }, (_, i) => socket.join(`j-${s}-${i}`, { config: { private: false } })),
      );
      expect(replies.every((r) => r[4].status === "ok")).toBe(true);
    }));
    await until(
      () => logged(fresh, (l) => l.limit === "joins_per_second" && l.triggered === true),
      "the join limit to trigger",
    );
    const late = await openSocket(fresh.apiUrl, fresh.anonKey);
    const refused = await late.join("one-more", { config: { private: false } });
    expect(refused[4]).toEqual({
      status: "error",
      response: { reason: "ClientJoinRateLimitReached: Too many joins per second" },
    });
    await until(() => late.closed, "the socket to be disconnected");

    // 20 sockets are open; 180 more reach the plan's 200, and the next is refused.
    const more = await Promise.all(Array.from({ length: 180 }, () => openSocket(fresh.apiUrl, fresh.anonKey)));
    const sent = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${fresh.apiUrl}/realtime/v1/websocket?vsn=2.0.0&apikey=${fresh.anonKey}`);
      const req = request(url, {
        headers: {
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("upgrade", (_res, sock) => {
        sock.destroy();
        resolve(101);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(429);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(1900);
    for (const socket of [...sockets, ...more]) socket.close();
  }, 90_000);
});
