// Two processes of a desktop till share a storage on disk. Web Locks do not
// reach across processes, so they coordinate by a lease record: when one is
// killed mid-work (no destroy, no goodbye), the other sends its taps once
// the lease lapses, each exactly once.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { fileStorage } from "../helpers/file-storage.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { startDevice, until } from "./device.ts";

let db: TestDatabase;
let server: TestServer;
const dir = mkdtempSync(join(tmpdir(), "onecart-till-"));

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("a till process killed with taps pending: the other process takes them over and each lands once", async () => {
  const ann = await server.token(STAFF_A1);
  const outbox = { coordination: "lease" as const, leaseMs: 1_000 };
  const survivor = startDevice(server, ann, { storage: fileStorage(dir), storageKey: "till", outbox });
  const cart = await survivor.onecart.openCart({ locationId: LOCATION_A1, deviceId: "two-processes" });

  const child = spawn(process.execPath, [new URL("./crashed-process.ts", import.meta.url).pathname], {
    env: { ...process.env, STORAGE_DIR: dir, CART_ID: cart.id, PRODUCT: PRODUCT_A[0], TAPS: "4", LEASE_MS: "1000" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  await until(() => output.includes("stored"), "the other process has stored its taps");
  // While it runs, its lease holds: nothing of it is taken.
  await new Promise((r) => setTimeout(r, 300));
  expect(survivor.onecart.pending()).toEqual([]);
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));

  await cart.addItem(PRODUCT_A[1], { options: { tap: "survivor" } }).done;
  const taps = async () =>
    (await db.sql<{ tap: string }[]>`select data -> 'options' ->> 'tap' as tap from pos.cart_events
      where cart_id = ${cart.id} and kind = 'item_added'`).map((r) => r.tap).sort();
  await until(async () => (await taps()).length === 5, "the killed process's taps have been sent");
  await until(() => survivor.onecart.pendingCount() === 0, "nothing is pending");
  expect(await taps()).toEqual(["crashed0", "crashed1", "crashed2", "crashed3", "survivor"]);
  await survivor.onecart.flush();
  expect(fileStorage(dir).keys!("till/action/")).toEqual([]);
  await assertInvariants(db.sql);
});
