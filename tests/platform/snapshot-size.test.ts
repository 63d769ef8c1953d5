// The largest cart snapshot the contract allows (200 lines, each with 1 KiB of
// options, a checkout ref of 200 characters) against the smallest plan's
// broadcast payload limit (Free: 256 KB, checked by Realtime as 256,000 bytes
// plus 500 of padding), measured as Realtime measures it, and received whole by
// a device on a Free-plan project.
import { beforeAll, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { openSocket } from "../helpers/phoenix.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { until } from "../helpers/until.ts";

const FREE_PAYLOAD_LIMIT_BYTES = 256 * 1000 + 500;
let db: TestDatabase;
let free: TestServer;

beforeAll(async () => {
  db = await freshDatabase();
  free = await startTestServer(db, { env: { ONECART_REALTIME_PLAN: "free" } });
});

/** Options whose JSON text, as the RPC measures it, is exactly 1 KiB and unique to line `n`. */
function fullOptions(n: number): Record<string, unknown> {
  const base = JSON.stringify({ n, note: "" }).replace(/":/g, '": ').replace(/,"/g, ', "');
  return { n, note: "x".repeat(1024 - Buffer.byteLength(base)) };
}

it("the largest snapshot fits the Free plan's payload limit, and a device receives it", async () => {
  const staff = db.as(STAFF_A1);
  const cart = await staff.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "largest" });
  const socket = await openSocket(free.apiUrl, free.anonKey);
  const topic = `cart:${cart.id}`;
  await socket.join(topic, {
    access_token: await free.token(STAFF_A1),
    config: { private: true, broadcast: { replication_ready: true } },
  });
  await until(() => socket.frames.some((f) => f[3] === "system" && f[4].status === "ok"), "replication_ready");

  for (let n = 0; n < 200; n++) {
    await staff.rpc("add_item", {
      p_cart_id: cart.id,
      p_product_id: PRODUCT_A[n % PRODUCT_A.length],
      p_quantity: 999,
      p_options: fullOptions(n),
    });
  }
  const locked = await staff.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "r".repeat(200) });
  const [{ bytes, lines }] = await db.sql`
    select octet_length(payload::text) as bytes, jsonb_array_length(payload->'items') as lines
      from realtime.messages where topic = ${topic} and event = 'cart_updated'
     order by inserted_at desc limit 1`;
  console.log(`largest cart snapshot: ${bytes} bytes for ${lines} lines; Free plan limit ${FREE_PAYLOAD_LIMIT_BYTES}`);
  expect(lines).toBe(200);
  expect(bytes).toBeLessThan(FREE_PAYLOAD_LIMIT_BYTES);

  await until(
    () => socket.frames.some((f) => f[3] === "broadcast" && f[4].payload?.version === locked.version),
    "the locked snapshot to arrive",
  );
  socket.close();
}, 120_000);
