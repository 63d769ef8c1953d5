// The local /rest/v1 waits for a pool connection as PostgREST does: up to its
// db-pool-acquisition-timeout (10 s), then 504 PGRST003
// (src/PostgREST/Error.hs). The contract's 3 s and its `busy` are the
// functions' rule, not PostgREST's.
import { beforeAll, expect, it } from "vitest";
import { createApi, createCaller, OnecartError } from "../../client/src/index.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, STAFF_A1 } from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { until } from "../helpers/until.ts";

let db: TestDatabase;
let server: TestServer;
let token: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db, { env: { ONECART_DB_POOL_SIZE: "1" } });
  token = await server.token(STAFF_A1);
});

async function staffHome() {
  const res = await fetch(`${server.apiUrl}/rest/v1/rpc/get_staff_home`, {
    method: "POST",
    headers: { "content-type": "application/json", apikey: server.anonKey, authorization: `Bearer ${token}` },
    body: "{}",
  });
  return { status: res.status, body: await res.json() };
}

it("a call that waits past the pool's acquisition timeout is 504 PGRST003; one inside it is served", async () => {
  expect((await staffHome()).status).toBe(200);
  // The one connection is taken by a call held on a lock (authenticator's 8 s
  // lock and statement timeouts end it).
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const taken = new Promise<void>((resolve) => (locked = resolve));
  const holder = db.pool(1).begin(async (tx) => {
    await tx`lock table pos.staff in access exclusive mode`;
    locked();
    await released;
  });
  await taken;
  try {
    const first = staffHome();
    await until(async () => {
      const [{ n }] = await db.sql`select count(*)::int as n from pg_stat_activity
                                    where datname = current_database() and wait_event_type = 'Lock'`;
      return n === 1;
    }, "the first call waits on the lock");
    // Three more wait for the one connection; whichever the pool hands it to
    // when the first call's lock wait ends (8 s) is served once the lock goes,
    // the other two are still waiting at 10 s. @onecart/client over
    // supabase.rpc() is one of them: it takes the 504 as "no answer", which it retries.
    const PGRST003 = {
      code: "PGRST003",
      message: "Timed out acquiring connection from connection pool.",
      details: null,
      hint: null,
    };
    const viaClient = () =>
      createApi(createCaller(server.client(token), "rpc")).listOpenCarts({ location_id: LOCATION_A1 })
        .then(() => ({ status: 200, body: null }), (error: unknown) => {
          expect(error).toBeInstanceOf(OnecartError);
          expect(error).toMatchObject({ code: "network_error", status: 504, retryable: true });
          return { status: 504, body: PGRST003 };
        });
    const waiting = [staffHome(), staffHome(), viaClient()];
    let settled = 0;
    for (const call of waiting) call.finally(() => settled++).catch(() => {});
    await until(() => settled >= 2, "two calls to give up waiting for a connection", 30_000);
    release();
    const answers = await Promise.all(waiting);
    expect(answers.filter((a) => a.status === 504).map((a) => a.body)).toEqual([PGRST003, PGRST003]);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect((await first).status).not.toBe(504);
  } finally {
    release();
    await holder;
  }
});
