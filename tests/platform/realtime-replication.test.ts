// The local Realtime outlives its replication connection. Killing the walsender
// used to crash the whole Deno server (an unhandled rejection in the reconnect);
// now the server stays up, streams again, and every joined channel is told to
// rejoin (system error, phx_error), so a device that reads the cart after each
// SUBSCRIBED holds the latest version even though a change committed while no
// slot existed was never broadcast.
import { beforeAll, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, TEST_JWT_SECRET, type TestServer } from "../helpers/server.ts";
import { apiKeys, startServer } from "../../scripts/lib/stack.ts";
import { joinChannel, pause, until } from "../helpers/realtime.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
});

/** Terminates this database's walsenders (other test files have their own). */
async function killWalsenders(): Promise<number> {
  const rows = await db.sql`select pg_terminate_backend(pid) from pg_stat_activity
                             where backend_type = 'walsender' and datname = current_database()`;
  return rows.length;
}

it("survives its walsender being killed, tells its channels to rejoin, and delivers again", async () => {
  const staff = db.as(STAFF_A1);
  const cart = await staff.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "rt-walsender" });
  const ann = server.client(await server.token(STAFF_A1));
  // What a POS app does after every (re)subscribe: read the cart once.
  let shown = cart.version;
  const readOnSubscribe = async () => {
    const { data } = await ann.functions.invoke(`carts/${cart.id}`, { method: "GET" });
    if (data) shown = Math.max(shown, data.version);
  };
  const device = await joinChannel(ann, `cart:${cart.id}`, "cart_updated", {
    private: true,
    onStatus: (status) => void (status === "SUBSCRIBED" && readOnSubscribe()),
  });
  const systemMessages: any[] = [];
  device.channel.on("system", {}, (message) => systemMessages.push(message));
  expect(device.status).toBe("SUBSCRIBED");
  await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] });
  await until(() => device.received.length === 1, "the first broadcast", 10_000);

  for (let round = 0; round < 3; round++) {
    const subscribedBefore = device.statuses.filter((s) => s === "SUBSCRIBED").length;
    expect(await killWalsenders()).toBe(1);
    // Committed while the slot is being replaced: may never be broadcast.
    await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[1] });
    await until(
      () => device.statuses.filter((s) => s === "SUBSCRIBED").length > subscribedBefore,
      "the channel to rejoin",
      15_000,
    );
    expect((await fetch(`${server.apiUrl}/health`)).status).toBe(200);
    expect(server.process.exitCode).toBeNull();
  }
  expect(device.statuses).toContain("CHANNEL_ERROR");
  expect(systemMessages.some((m) => m.status === "error")).toBe(true);

  const latest = await staff.rpc("get_cart", { p_cart_id: cart.id });
  await until(() => shown === latest.version, "the device to read the cart after rejoining", 10_000);

  const next = await staff.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[2] });
  await until(() => device.received.some((m) => m.version === next.version), "a broadcast after the kills", 10_000);
  await pause(200);
  expect(server.output.join("\n")).not.toMatch(/Uncaught|unhandled/i);
});

it("says which open transactions hold its start back, and starts once they end", async () => {
  // A session left in a transaction that has written: a logical slot cannot be
  // created until it ends, anywhere on the server.
  const session = db.pool(1);
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  let holderPid = 0;
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const holding = session.begin(async (tx) => {
    const [row] = await tx`select pg_backend_pid() as pid, txid_current() as xid`;
    holderPid = row.pid;
    opened();
    await ended;
  });
  await open;

  const output: string[] = [];
  // The server answers at once: Realtime starts its replication when it is
  // first connected to, as a project's does.
  const started = await startServer({
    dbUrl: db.url,
    jwtSecret: TEST_JWT_SECRET,
    onOutput: (text) => output.push(...text.split("\n").filter(Boolean)),
  });
  const lines = () =>
    output.map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return null;
      }
    });
  const waiting = () => lines().find((line) => line?.event === "waiting_for_transactions");
  const { anonKey } = await apiKeys(TEST_JWT_SECRET);
  const socket = new WebSocket(
    `${started.apiUrl.replace("http", "ws")}/realtime/v1/websocket?vsn=2.0.0&apikey=${anonKey}`,
  );
  try {
    expect((await fetch(`${started.apiUrl}/health`)).status).toBe(200);
    try {
      await until(() => waiting() !== undefined, "the server to say what it waits for", 60_000);
      expect(waiting().sessions.map((s: { pid: number }) => s.pid)).toContain(holderPid);
    } finally {
      // Ended whatever happened: an open transaction holds back every other server's start.
      end();
      await holding;
    }
    await until(
      () => lines().some((line) => line?.realtime === "replication" && line?.event === "started"),
      "the replication to start once the transaction ended",
    );
  } finally {
    socket.close();
    await started.stop();
  }
}, 120_000);
