// A fresh onecart database per test file, and callers that act the way
// PostgREST would: as a store's staff, as anon, as service_role.
import { randomUUID } from "node:crypto";
import { afterAll, expect, inject } from "vitest";
import type postgres from "postgres";
import { connect, createDatabase, dropDatabase } from "../../scripts/lib/database.ts";
import { projectUrl } from "../../scripts/lib/postgres.ts";
import { callRpc, type Claims, type RpcArgs, type RpcName } from "../../functions/_shared/rpc.ts";
import { ApiError, fromPostgresError } from "../../functions/_shared/errors.ts";

export type Sql = postgres.Sql<{}>;

export interface Caller {
  claims: Claims;
  rpc<N extends RpcName>(name: N, args?: RpcArgs<N>): Promise<any>;
  /** The same call on a pool of its own size, for concurrency tests. */
  on(pool: Sql): Caller;
}

export interface TestDatabase {
  /** As `postgres`, the project role (not a superuser), as the functions connect on a project. */
  url: string;
  /** As the local superuser, for what only the Dashboard or support could do on a project. */
  adminUrl: string;
  /**
   * As `postgres`, for assertions and for setting up odd states: what a test
   * can do here, a project's owner can do too.
   */
  sql: Sql;
  /** As the local superuser (opened on first use); only where a project would need one. */
  admin(): Sql;
  as(userId: string): Caller;
  anon: Caller;
  service: Caller;
  pool(max: number): Sql;
}

function caller(sql: Sql, claims: Claims): Caller {
  return {
    claims,
    rpc: (name, args = {}) => callRpc(sql as never, name, args, claims),
    on: (pool) => caller(pool, claims),
  };
}

export function staffClaims(userId: string): Claims {
  return { sub: userId, role: "authenticated", aud: "authenticated", exp: Math.floor(Date.now() / 1000) + 3600 };
}

export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = inject("adminUrl");
  const name = `t_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const dbAdminUrl = await createDatabase(adminUrl, name, inject("templateDatabase"));
  const url = projectUrl(dbAdminUrl);
  const sql = connect(url, { max: 10 });
  const pools: Sql[] = [];
  let admin: Sql | undefined;
  afterAll(async () => {
    await Promise.all([sql.end(), admin?.end(), ...pools.map((p) => p.end())]);
    await dropDatabase(adminUrl, name);
  });
  return {
    url,
    adminUrl: dbAdminUrl,
    sql,
    admin: () => (admin ??= connect(dbAdminUrl, { max: 2 })),
    as: (userId) => caller(sql, staffClaims(userId)),
    anon: caller(sql, { role: "anon" }),
    service: caller(sql, { role: "service_role" }),
    pool(max) {
      const pool = connect(url, { max });
      pools.push(pool);
      return pool;
    },
  };
}

/** Runs `body` in a transaction that is then rolled back: the database stays as it was. */
export async function rolledBack(sql: Sql, body: (tx: Sql) => Promise<void>): Promise<void> {
  const rollback = new Error("rolled back on purpose");
  await sql.begin(async (tx) => {
    await body(tx as unknown as Sql);
    throw rollback;
  }).catch((error) => {
    if (error !== rollback) throw error;
  });
}

/** Asserts that a call fails with a contract error code, and returns that error. */
export async function expectError(promise: Promise<unknown>, code: string) {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}, the call succeeded`).toBeDefined();
  const mapped = thrown instanceof ApiError ? thrown : fromPostgresError(thrown);
  expect(mapped?.code ?? (thrown as Error).message).toBe(code);
  return { error: thrown as { code: string; message: string; detail?: string; hint?: string }, api: mapped! };
}

/** The cart's row as stored: the columns a test compares before and after a call. */
export async function cartRow(sql: Sql, cartId: string) {
  const [row] = await sql`select status, version::int, subtotal_cents::int, item_count::int, lock_token
                            from pos.carts where id = ${cartId}`;
  return row;
}

/** The invariants every test can assert after it has run its load. */
export async function assertInvariants(sql: Sql): Promise<void> {
  expect(await sql`select * from ops.duplicate_open_carts`).toEqual([]);
  expect(await sql`select * from ops.cart_total_mismatches`).toEqual([]);
  expect(await sql`select * from ops.cart_history_gaps`).toEqual([]);
  expect(await sql`select * from ops.queue_entries_off_cart`).toEqual([]);
}
