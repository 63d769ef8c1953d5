// A cart held by a stuck transaction, with ten tills waiting on it, holds up
// only its own requests: another cart of the same store and a cart of another
// store are answered at once, also right after the function instance lost its
// database connections (backends killed, a connection gone silent and its pool
// replaced). "At once" is an order, not a speed: each is answered 200 before
// any of the stuck cart's requests has waited out its 3 s and been answered
// busy, which is what a request queued behind the stuck cart would have to do.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { afterAll } from "vitest";
import { buildDatabase, connect } from "../../scripts/lib/database.ts";
import { type RunningPostgres, startPostgres } from "../../scripts/lib/postgres.ts";
import { freshDatabase, type Sql, type TestDatabase } from "../helpers/db.ts";
import { expectApiError, openCart, startTestServer, type TestServer } from "../helpers/server.ts";
import { holdCart, lockWaiters } from "../helpers/locks.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { until } from "../helpers/until.ts";
import {
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  PRODUCT_A,
  PRODUCT_B1,
  STAFF_A1,
  STAFF_B1,
} from "../helpers/fixture.ts";

// The functions' own connections carry this name, so a test can kill them alone.
const APP = "onecart_functions_under_test";

/** The database a scenario runs on: this run's shared one, or a Postgres of the test's own it may restart. */
type Database = Pick<TestDatabase, "url" | "sql" | "pool">;
let db: Database;
let shared: Database;

beforeAll(async () => {
  db = shared = await freshDatabase();
});

const withAppName = (url: string) => {
  const u = new URL(url);
  u.searchParams.set("application_name", APP);
  return u.toString();
};

interface Stage {
  server: TestServer;
  ann: string;
  cruz: string;
  stuck: string;
  sameStore: string;
  otherStore: string;
}

let devices = 0;
async function stage(dbUrl = db.url): Promise<Stage> {
  const server = await startTestServer(db, { env: { ONECART_DB_URL: withAppName(dbUrl), ONECART_DB_POOL_SIZE: "3" } });
  const ann = await server.token(STAFF_A1);
  const cruz = await server.token(STAFF_B1);
  const open = (token: string, location: string) => openCart(server, token, { location, device: `stuck-${++devices}` });
  // Opened together, so the instance holds all three of its connections.
  const [stuck, sameStore, otherStore] = await Promise.all([
    open(ann, LOCATION_A1),
    open(ann, LOCATION_A2),
    open(cruz, LOCATION_B1),
  ]);
  return { server, ann, cruz, stuck: stuck.id, sameStore: sameStore.id, otherStore: otherStore.id };
}

function add(s: Stage, cartId: string, token: string, product: string) {
  return s.server.call("POST", `/carts/${cartId}/items`, {
    token,
    body: { product_id: product },
    headers: { "idempotency-key": randomUUID() },
  });
}

/** The functions' connections, as Postgres sees them. */
async function functionBackends(): Promise<number[]> {
  const rows = await db.sql`select pid from pg_stat_activity where application_name = ${APP}`;
  return rows.map((r) => r.pid);
}

async function killFunctionBackends(): Promise<void> {
  await db.sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${APP}`;
}

/**
 * Ten tills wait on the stuck cart; meanwhile the other two carts are each
 * changed. Both changes must be answered 200 while every one of the ten is
 * still waiting.
 */
async function expectOnlyTheStuckCartWaits(s: Stage): Promise<void> {
  const holder = await holdCart(db, s.stuck, 20_000);
  let stuckAnswered = 0;
  const stuck = Array.from({ length: 10 }, () =>
    add(s, s.stuck, s.ann, PRODUCT_A[0]).finally(() => {
      stuckAnswered++;
    }));
  await until(async () => (await lockWaiters(db.sql)) >= 2, "the stuck cart's requests to wait for its lock");

  const answeredAmongStuck: Record<string, number> = {};
  const [same, other] = await Promise.all([
    add(s, s.sameStore, s.ann, PRODUCT_A[1]).finally(() => (answeredAmongStuck.sameStore = stuckAnswered)),
    add(s, s.otherStore, s.cruz, PRODUCT_B1).finally(() => (answeredAmongStuck.otherStore = stuckAnswered)),
  ]);
  expect([same.status, other.status], JSON.stringify([same.body, other.body])).toEqual([200, 200]);
  // Neither waited behind the stuck cart: none of its ten had been answered yet.
  expect(answeredAmongStuck).toEqual({ sameStore: 0, otherStore: 0 });
  expect(holder.holding).toBe(true);

  for (const res of await Promise.all(stuck)) expectApiError(res, 503, "busy");
  expect(holder.holding).toBe(true);
  await holder.release();
}

describe("a stuck cart", () => {
  it("holds up only its own requests on a fresh instance", async () => {
    const s = await stage();
    await expectOnlyTheStuckCartWaits(s);
  });

  it("holds up only its own requests right after the instance's backends were killed", async () => {
    const s = await stage();
    expect((await functionBackends()).length).toBeGreaterThanOrEqual(2);
    await killFunctionBackends();
    await expectOnlyTheStuckCartWaits(s);
  });

  it("holds up only its own requests after backends were killed again and again", async () => {
    const s = await stage();
    // Each kill lands while the tills keep working, some while the instance is
    // still reconnecting from the one before: calls fail unavailable and are
    // retried, as the client library does.
    for (let round = 0; round < 6; round++) {
      await killFunctionBackends();
      const calls = [0, 1, 2].map(() => add(s, s.sameStore, s.ann, PRODUCT_A[2]));
      await sleep(round * 2);
      await killFunctionBackends();
      for (const res of await Promise.all(calls)) expect([200, 503]).toContain(res.status);
    }
    await expectOnlyTheStuckCartWaits(s);
  });

  it("holds up only its own requests after the database refused connections for a while", async () => {
    // What a restarting Postgres or a pooler at its limit looks like from the
    // instance: every connection reset, every new one refused, then back.
    const proxy = await startTcpProxy(db.url);
    const s = await stage(proxy.url);
    proxy.refuse = Number.MAX_SAFE_INTEGER;
    proxy.dropAll();
    for (let round = 0; round < 8; round++) {
      const calls = [s.sameStore, s.otherStore].map((cart) =>
        add(s, cart, cart === s.sameStore ? s.ann : s.cruz, cart === s.sameStore ? PRODUCT_A[3] : PRODUCT_B1)
      );
      for (const res of await Promise.all(calls)) expectApiError(res, 503, "unavailable");
    }
    proxy.refuse = 0;
    await until(async () => (await add(s, s.sameStore, s.ann, PRODUCT_A[3])).status === 200, "the stack to answer");
    await expectOnlyTheStuckCartWaits(s);
  }, 120_000);

  it("holds up only its own requests after a silent connection's pool was replaced", async () => {
    const proxy = await startTcpProxy(db.url);
    const s = await stage(proxy.url);
    proxy.silenceAll();
    const lost = await add(s, s.sameStore, s.ann, PRODUCT_A[3]);
    expectApiError(lost, 503, "unavailable");
    expect(s.server.output.some((l) => l.includes("a database connection went silent"))).toBe(true);
    await expectOnlyTheStuckCartWaits(s);
  }, 120_000);
});

describe.skipIf(!!process.env.ONECART_DATABASE_URL)("a stuck cart on a Postgres that restarted", () => {
  let pg: RunningPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
    const pools: Sql[] = [];
    afterAll(async () => {
      db = shared;
      await Promise.all(pools.map((p) => p.end({ timeout: 1 })));
      await pg.stop();
    });
    await buildDatabase(pg.adminUrl);
    const pool = (max: number) => {
      const p = connect(pg.url, { max });
      pools.push(p);
      return p;
    };
    db = { url: pg.url, sql: pool(4), pool };
  }, 240_000);

  it("holds up only its own requests once Postgres is back", async () => {
    const s = await stage();
    // Tills keep working through the restart: their calls fail unavailable
    // (the instance's connects are refused) until Postgres is back.
    let working = true;
    const statuses: number[] = [];
    const tills = Promise.all([s.sameStore, s.otherStore].map(async (cart) => {
      const token = cart === s.sameStore ? s.ann : s.cruz;
      const product = cart === s.sameStore ? PRODUCT_A[4] : PRODUCT_B1;
      while (working) {
        statuses.push((await add(s, cart, token, product)).status);
        await sleep(20);
      }
    }));
    await pg.restart();
    await until(async () => (await add(s, s.sameStore, s.ann, PRODUCT_A[4])).status === 200, "the stack to answer");
    working = false;
    await tills;
    expect(statuses.filter((x) => x !== 200 && x !== 503)).toEqual([]);
    await expectOnlyTheStuckCartWaits(s);
  }, 120_000);
});
