// Holding a row lock from a transaction of the test's own, as a stuck request
// or a long ops fix would, and seeing who waits for it.
import { setTimeout as sleep } from "node:timers/promises";
import type { Sql, TestDatabase } from "./db.ts";

export interface Holder {
  /** True until the holding transaction has ended. */
  readonly holding: boolean;
  release(): Promise<void>;
}

/**
 * A transaction on a connection of its own that takes a lock with `lock` and
 * keeps it for `ms` (30 s unless told), or until released.
 */
export async function hold(
  db: Pick<TestDatabase, "pool">,
  lock: (tx: Sql) => Promise<unknown>,
  ms = 30_000,
): Promise<Holder> {
  const connection = db.pool(1);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const taken = new Promise<void>((resolve) => (locked = resolve));
  let holding = true;
  const done = connection.begin(async (tx) => {
    await lock(tx as unknown as Sql);
    locked();
    await Promise.race([released, sleep(ms)]);
  }).finally(() => (holding = false));
  await Promise.race([taken, done]);
  return {
    get holding() {
      return holding;
    },
    async release() {
      release();
      await done;
    },
  };
}

export const holdCart = (db: Pick<TestDatabase, "pool">, cartId: string, ms?: number) =>
  hold(db, (tx) => tx`select 1 from pos.carts where id = ${cartId} for update`, ms);

/** Backends of `sql`'s database waiting for a lock. */
export async function lockWaiters(sql: Sql): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from pg_stat_activity
                            where datname = current_database() and wait_event_type = 'Lock'`;
  return n;
}
