// destroy() leaves nothing running, and the library needs no DOM: a plain
// Node process (no window, document or IndexedDB; with and without Web
// Locks) taps against the real stack, destroys its client, and exits on its own.
import { execFile } from "node:child_process";
import { beforeAll, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { memoryStorage } from "../../client/src/index.ts";
import { startDevice, until } from "./device.ts";

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
});

function tapAndExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [new URL("./tap-and-exit.ts", import.meta.url).pathname],
      // Far below TanStack's 60 s garbage-collection timers, which kept such a process alive before.
      // After live(), supabase-js's Realtime disconnect leaves its own 10 s timer behind
      // (supabase/supabase-js#2666), which this bound still allows.
      { env: { ...process.env, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error as any).code ?? 1 : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

it.each([
  { name: "with Web Locks", noLocks: "0", live: "0" },
  { name: "without Web Locks (a lease in the storage)", noLocks: "1", live: "0" },
  { name: "after following the cart live", noLocks: "0", live: "1" },
])("a process that taps and destroys exits on its own, $name", async ({ noLocks, live }) => {
  const result = await tapAndExit({
    ONECART_URL: server.apiUrl,
    ONECART_ANON_KEY: server.anonKey,
    ONECART_TOKEN: await server.token(STAFF_A1),
    LOCATION: LOCATION_A1,
    PRODUCT: PRODUCT_A[0],
    NO_WEB_LOCKS: noLocks,
    LIVE: live,
  });
  expect(result, `${result.stderr}\n${result.stdout}`).toMatchObject({ code: 0 });
  const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
  console.log(
    `tapped in ${report.startedMs} ms after start, exited ${Date.now() - report.destroyedAt} ms after destroy`,
  );
  expect(report).toMatchObject({ dom: [], webLocks: noLocks === "0", version: 2 });
  const [row] = await db.sql`select item_count::int from pos.carts where id = ${report.cartId}`;
  expect(row.item_count).toBe(1);
});

it("destroy() settles the handles of actions still waiting: they reject, and the actions stay in storage", async () => {
  const map = new Map<string, string>();
  const till = startDevice(server, await server.token(STAFF_A1), { storage: memoryStorage(map), storageKey: "till" });
  const cart = await till.onecart.openCart({ locationId: LOCATION_A1, deviceId: "destroy-pending" });
  till.network.setDown(true);
  const handle = cart.addItem(PRODUCT_A[1]);
  await until(() => !till.onecart.isOnline(), "the till knows it is offline");
  await till.onecart.destroy();
  // An app awaiting the tap (a spinner, a receipt) is told, rather than left waiting for ever.
  expect(await handle.done.catch((e) => e)).toMatchObject({ name: "OnecartError", code: "network_error" });
  expect([...map.keys()].filter((k) => k.includes("/action/"))).toHaveLength(1);
}, 15_000);
