// Three devices tap on one cart at random while the shop's network drops
// answers and goes down now and then. Each action must apply exactly once, in
// the order its device made them, and every device must end on the
// database's snapshot.
import { beforeAll, expect, it } from "vitest";
import type { ActionHandle, Cart } from "../../client/src/index.ts";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1, STAFF_A2 } from "../helpers/fixture.ts";
import { type Device, startDevice, until } from "./device.ts";

const ACTIONS = Number(process.env.ONECART_CLIENT_ACTIONS ?? 200);
const SEED = Number(process.env.ONECART_CLIENT_SEED ?? Date.now() % 1_000_000);

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
});

/** A small seeded generator, so a failing run can be repeated with ONECART_CLIENT_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a device asked for, in its order, and what each event in the history must say back. */
type Expected = { kind: "item_added" | "item_quantity_set" | "item_removed"; tap: string; quantity?: number };

it(
  `3 devices × ${ACTIONS} random actions, 10% of answers lost, the network down at random: exactly once, in order, converged`,
  async () => {
    const random = prng(SEED);
    console.log(`chaos seed ${SEED}`);
    const tokens = [await server.token(STAFF_A1), await server.token(STAFF_A2), await server.token(STAFF_A1)];
    const devices: Device[] = tokens.map((token) =>
      startDevice(server, token, {
        retry: { maxElapsedMs: 120_000, initialDelayMs: 50, maxDelayMs: 1_000 },
        requestTimeoutMs: 10_000,
      })
    );
    const cart = await devices[0].onecart.openCart({ locationId: LOCATION_A1, deviceId: "chaos-counter" });
    const stores = devices.map((d) => d.onecart.cart(cart.id));
    stores.forEach((store) => store.live());
    await until(
      () => stores.every((s) => s.getState().live === "live" && s.getState().confirmed !== null),
      "every device follows the cart and has read it",
    );
    for (const device of devices) device.network.loseAnswers(0.1, random);

    const expected: Expected[][] = devices.map(() => []);
    const handles: ActionHandle<Cart>[][] = devices.map(() => []);
    let settled = false;

    // The shop's network: down for a moment every few seconds, for every device
    // at once, until every action has its answer.
    const outages = (async () => {
      let count = 0;
      while (!settled) {
        await new Promise((r) => setTimeout(r, (count === 0 ? 300 : 1_000) + random() * 2_000));
        if (settled) break;
        devices.forEach((d) => d.network.setDown(true));
        count++;
        await new Promise((r) => setTimeout(r, 300 + random() * 1_500));
        devices.forEach((d) => d.network.setDown(false));
      }
      return count;
    })();

    await Promise.all(devices.map(async (device, d) => {
      const store = stores[d];
      const lines: string[] = []; // this device's own lines, by tap
      const productOf = new Map<string, string>();
      for (let i = 0; i < ACTIONS; i++) {
        const roll = random();
        let handle: ActionHandle<Cart>;
        if (lines.length === 0 || (roll < 0.55 && lines.length < 40)) {
          const tap = `d${d}-${i}`;
          const quantity = 1 + Math.floor(random() * 3);
          const product = PRODUCT_A[Math.floor(random() * 5)];
          handle = store.addItem(product, { quantity, options: { tap } });
          lines.push(tap);
          productOf.set(tap, product);
          expected[d].push({ kind: "item_added", tap, quantity });
        } else {
          const at = Math.floor(random() * lines.length);
          const tap = lines[at];
          // The line as the screen shows it (a pending one too), as a staff member would tap it.
          const item = store.getState().cart!.items.find((it) => it.options.tap === tap)!;
          expect(item.product_id).toBe(productOf.get(tap));
          const line = item.id;
          if (roll < 0.8) {
            const quantity = 1 + Math.floor(random() * 5);
            handle = store.setQuantity(line, quantity);
            expected[d].push({ kind: "item_quantity_set", tap, quantity });
          } else {
            handle = store.removeItem(line);
            lines.splice(at, 1);
            expected[d].push({ kind: "item_removed", tap });
          }
        }
        handles[d].push(handle);
        await new Promise((r) => setTimeout(r, random() * 25));
      }
    }));
    const results = await Promise.allSettled(handles.flat().map((h) => h.done));
    settled = true;
    const outageCount = await outages;
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(refused.map((r) => `${r.reason?.code}: ${r.reason?.message}`)).toEqual([]);

    // Exactly once and in each device's order: the history, read per device, is what it asked for.
    const history = await db.as(STAFF_A1).rpc("get_cart_history", { p_cart_id: cart.id }) as any[];
    const tapOfItem = new Map<string, string>();
    const seen: Expected[][] = devices.map(() => []);
    for (const event of history) {
      if (event.kind === "created") continue;
      if (event.kind === "item_added") tapOfItem.set(event.data.item_id, event.data.options.tap);
      const tap = tapOfItem.get(event.data.item_id)!;
      const d = Number(tap.slice(1, tap.indexOf("-")));
      seen[d].push(
        event.kind === "item_added"
          ? { kind: event.kind, tap, quantity: event.data.quantity }
          : event.kind === "item_quantity_set"
          ? { kind: event.kind, tap, quantity: event.data.quantity }
          : { kind: event.kind, tap },
      );
    }
    for (let d = 0; d < devices.length; d++) expect(seen[d]).toEqual(expected[d]);
    expect(history.length).toBe(1 + devices.length * ACTIONS);

    // Every device converges to the database's snapshot, nothing pending.
    const final = await db.as(STAFF_A1).rpc("get_cart", { p_cart_id: cart.id });
    await until(
      () => stores.every((s) => s.getState().confirmed?.version === final.version),
      "every device holds the final version",
    );
    for (const store of stores) {
      expect(store.getState().pending).toEqual([]);
      expect(store.getState().cart).toEqual(final);
    }
    await assertInvariants(db.sql);
    const lost = devices.reduce((n, d) => n + d.network.stats.lost, 0);
    const refusedWhileDown = devices.reduce((n, d) => n + d.network.stats.refused, 0);
    console.log(
      `chaos: ${lost} answers lost, ${outageCount} outages (${refusedWhileDown} requests refused), ` +
        `final version ${final.version}`,
    );
    expect(lost).toBeGreaterThan(0);
    expect(outageCount).toBeGreaterThan(0);
  },
  300_000,
);
