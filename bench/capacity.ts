// 7. Capacity: how many point-of-sale devices one database serves with every
//    call's p99 under 50 ms. Devices across many stores, each acting at a human
//    pace (one action every 2–5 s) with the mix a shop floor makes: build a cart
//    (adds, quantity changes, removes, re-reads), check it out (lock, then
//    complete), join customers to the queue and call the next one. Calls go the
//    way PostgREST makes them (role and claims, then the RPC, one transaction)
//    through a pool of connections as a pooler would hold; the local Realtime
//    decodes every broadcast from the WAL meanwhile, as Supabase Realtime does.
//    The device count doubles until p99 reaches 50 ms. A step that misses is
//    measured once more before it counts: durable commits wait for the disk,
//    and one stall of a shared disk in a 10 s window decides a p99 on its own.
import { performance } from "node:perf_hooks";
import { type BenchContext, type Sql } from "./context.ts";
import { percentile } from "./lib.ts";
import type { RpcName } from "../functions/_shared/rpc.ts";

const STORES = 50;
const LOCATIONS_PER_STORE = 2;
const CUSTOMERS_PER_STORE = 40;
const P99_LIMIT_MS = 50;

export interface CapacityStep {
  devices: number;
  /** Calls completed in the measured window, per second. */
  callsPerSecond: number;
  /** Of which committed changes, each broadcast once on its cart or queue topic. */
  changesPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface Capacity {
  stores: number;
  /** "on": every commit waits for its WAL flush (Supabase's setting); "off": the CPU-bound view. */
  synchronousCommit: "on" | "off";
  pool: number;
  paceSeconds: [number, number];
  stepSeconds: number;
  steps: CapacityStep[];
  /** The largest device count measured with p99 under the limit (0 if none). */
  served: number;
  /** Share of each call in the mix, measured. */
  mix: Record<string, number>;
}

export interface Store {
  id: string;
  staff: string;
  locations: string[];
  products: string[];
  customers: string[];
}

export interface Device {
  store: Store;
  location: string;
  name: string;
  cart: { id: string; items: string[] } | null;
}

/** STORES stores, each with locations, products, customers and one staff user, written directly. */
export async function seedStores(admin: Sql): Promise<Store[]> {
  const stores = await admin`insert into pos.stores (name)
    select 'Capacity store ' || n from generate_series(1, ${STORES}) n returning id`;
  const out: Store[] = [];
  for (const { id } of stores) {
    const [user] = await admin`insert into auth.users (id, email)
      values (gen_random_uuid(), 'staff-' || gen_random_uuid() || '@capacity.example') returning id`;
    await admin`insert into pos.staff (user_id, store_id, role) values (${user.id}, ${id}, 'staff')`;
    const locations = await admin`insert into pos.locations (store_id, name)
      select ${id}, 'Chair ' || n from generate_series(1, ${LOCATIONS_PER_STORE}) n returning id`;
    const products = await admin`insert into pos.products (store_id, name, price_cents)
      select ${id}, 'Service ' || n, 500 * n from generate_series(1, 5) n returning id`;
    const customers = await admin`insert into pos.customers (store_id, name)
      select ${id}, 'Customer ' || n from generate_series(1, ${CUSTOMERS_PER_STORE}) n returning id`;
    out.push({
      id,
      staff: user.id,
      locations: locations.map((r) => r.id),
      products: products.map((r) => r.id),
      customers: customers.map((r) => r.id),
    });
  }
  await admin`vacuum analyze`;
  return out;
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

/** One RPC of a device's action, by name and arguments; `change` says whether it commits a change. */
export type MixCall = (name: RpcName, args: Record<string, unknown>, change?: boolean) => Promise<any>;

/**
 * One action of one device with the mix a shop floor makes: build a cart
 * (adds, quantity changes, removes, re-reads), check it out (lock, then
 * complete), join customers to the queue and call the next one.
 */
export async function shopFloorAction(device: Device, call: MixCall): Promise<void> {
  const r = Math.random();
  if (!device.cart || r < 0.08) {
    const cart = await call(
      "get_or_create_cart",
      { p_location_id: device.location, p_device_id: device.name },
      false,
    );
    device.cart = { id: cart.id, items: cart.items.map((i: { id: string }) => i.id) };
    return;
  }
  const cart = device.cart;
  if (r < 0.48 || cart.items.length === 0) {
    const after = await call("add_item", {
      p_cart_id: cart.id,
      p_product_id: pick(device.store.products),
      p_quantity: 1 + Math.floor(Math.random() * 3),
    });
    cart.items = after.items.map((i: { id: string }) => i.id);
  } else if (r < 0.63) {
    await call("set_item_quantity", {
      p_cart_id: cart.id,
      p_item_id: pick(cart.items),
      p_quantity: 1 + Math.floor(Math.random() * 4),
    });
  } else if (r < 0.71) {
    const item = pick(cart.items);
    await call("remove_item", { p_cart_id: cart.id, p_item_id: item });
    cart.items = cart.items.filter((i) => i !== item);
  } else if (r < 0.81) {
    const locked = await call("lock_cart", { p_cart_id: cart.id, p_checkout_ref: `pay-${cart.id}` });
    await call("complete_checkout", {
      p_cart_id: cart.id,
      p_lock_token: locked.lock.token,
      p_checkout_ref: `pay-${cart.id}`,
      p_paid_total_cents: locked.lock.total_cents,
    });
    device.cart = null;
  } else if (r < 0.91) {
    await call("add_to_queue", { p_location_id: device.location, p_customer_id: pick(device.store.customers) });
  } else {
    const entry = await call("call_next", { p_location_id: device.location }, false);
    if (entry) await call("complete_queue_entry", { p_entry_id: entry.id });
  }
}

export async function capacity(
  ctx: BenchContext,
  opts: {
    stepSeconds: number;
    startDevices: number;
    maxDevices: number;
    pool?: number;
    synchronousCommit?: "on" | "off";
  },
): Promise<Capacity> {
  const POOL = opts.pool ?? 20;
  const PACE: [number, number] = [2, 5];
  // Seeding writes auth.users and the store rows directly: the local superuser.
  const admin = ctx.pool(1, ctx.stack.adminDbUrl);
  const synchronousCommit = opts.synchronousCommit ?? "on";
  const pool = ctx.pool(POOL, undefined, { synchronous_commit: synchronousCommit });
  const stores = await seedStores(admin);
  const devices: Device[] = [];
  const calls: Record<string, number> = {};
  const steps: CapacityStep[] = [];

  /** One action of one device; every RPC it makes is timed on its own. */
  async function act(device: Device, record: (call: string, ms: number, ok: boolean, change: boolean) => void) {
    await shopFloorAction(device, async (name, args, change = true) => {
      const t = performance.now();
      try {
        const result = await ctx.rpc(pool, name, args as never, device.store.staff);
        record(name, performance.now() - t, true, change);
        return result;
      } catch (error) {
        record(name, performance.now() - t, false, false);
        throw error;
      }
    });
  }

  /** Runs `n` devices for `seconds` after they have all started; returns what the window saw. */
  async function run(n: number, seconds: number, measure: boolean): Promise<CapacityStep> {
    while (devices.length < n) {
      const i = devices.length;
      const store = stores[i % STORES];
      devices.push({
        store,
        location: store.locations[Math.floor(i / STORES) % LOCATIONS_PER_STORE],
        name: `capacity-${i}`,
        cart: null,
      });
    }
    const latencies: number[] = [];
    let errors = 0;
    let changes = 0;
    const started = performance.now();
    // Devices start spread over one pace interval; the window opens once all have started.
    const windowStart = started + PACE[1] * 1000;
    const until = windowStart + seconds * 1000;
    const record = (name: string, ms: number, ok: boolean, change: boolean) => {
      const now = performance.now();
      if (!measure || now < windowStart || now > until) return;
      calls[name] = (calls[name] ?? 0) + 1;
      latencies.push(ms);
      if (!ok) errors++;
      if (change) changes++;
    };
    await Promise.all(
      devices.slice(0, n).map(async (device) => {
        await new Promise((r) => setTimeout(r, Math.random() * PACE[1] * 1000));
        while (performance.now() < until) {
          try {
            await act(device, record);
          } catch {
            device.cart = null; // counted; the device starts over with a fresh read
          }
          const pause = (PACE[0] + Math.random() * (PACE[1] - PACE[0])) * 1000;
          await new Promise((r) => setTimeout(r, pause));
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    return {
      devices: n,
      callsPerSecond: latencies.length / seconds,
      changesPerSecond: changes / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      errors,
    };
  }

  // Unmeasured: every pooled connection compiles the functions and plans its
  // statements on first use, which a running shop paid for long ago.
  await run(opts.startDevices, PACE[1], false);
  const misses = (step: CapacityStep) => !(step.p99 < P99_LIMIT_MS) || step.errors > 0;
  for (let n = opts.startDevices; n <= opts.maxDevices; n *= 2) {
    let step = await run(n, opts.stepSeconds, true);
    if (misses(step)) step = await run(n, opts.stepSeconds, true);
    steps.push(step);
    if (misses(step)) break;
  }
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  const passing = steps.filter((s) => s.p99 < P99_LIMIT_MS && s.errors === 0);
  return {
    stores: STORES,
    synchronousCommit,
    pool: POOL,
    paceSeconds: PACE,
    stepSeconds: opts.stepSeconds,
    steps,
    served: passing.length ? Math.max(...passing.map((s) => s.devices)) : 0,
    mix: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, v / total])),
  };
}
