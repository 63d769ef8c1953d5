// The database pool of one function instance, and the bounds on every wait for
// it (contract v1.1: no request waits unboundedly). docs/connections.md has the
// settings and the arithmetic behind their defaults.
//
// prepare: false because Supabase's transaction pooler (Supavisor, port 6543)
// cannot keep prepared statements; fetch_types: false because onecart needs no
// array types, which saves a query on every new connection.
import postgres from "npm:postgres@3.4.9";
import { busyError } from "./errors.ts";
import { ClientGone, ConnectionGate, GateTimeout, type Release } from "./gate.ts";
import { LOCK_WAIT_MS, type SqlClient, STATEMENT_TIMEOUT_MS } from "./rpc.ts";

export { ClientGone } from "./gate.ts";

export interface DbSettings {
  url: string;
  /** Connections this instance may hold (ONECART_DB_POOL_SIZE, default 3). */
  poolSize: number;
  /** Connections one cart or location may hold at once (ONECART_DB_MAX_PER_TARGET). */
  perTarget: number;
  /** The longest a request waits for a connection and a lock together: the contract's 3 s. */
  lockWaitMs: number;
  /** statement_timeout of every call, as hosted PostgREST gives `authenticated`. */
  statementTimeoutMs: number;
  connectTimeoutSeconds: number;
}

const CONNECT_TIMEOUT_SECONDS = 4;

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not "${text}"`);
  return value;
}

/**
 * ONECART_DB_URL, when set, wins over SUPABASE_DB_URL: on a project,
 * SUPABASE_DB_URL is the direct connection and names starting with SUPABASE_
 * cannot be set as secrets, so the transaction pooler's URL needs a name of its own.
 */
export function readSettings(env: (name: string) => string | undefined = (n) => Deno.env.get(n)): DbSettings {
  const url = env("ONECART_DB_URL") || env("SUPABASE_DB_URL");
  if (!url) throw new Error("Neither ONECART_DB_URL nor SUPABASE_DB_URL is set");
  const poolSize = positiveInteger("ONECART_DB_POOL_SIZE", env("ONECART_DB_POOL_SIZE"), 3);
  // Two per cart by default: its row lock lets one mutation run at a time, and a
  // second connection already waiting takes the lock the moment the first
  // commits. More would only hold connections that wait. Never the whole pool,
  // so a held cart always leaves a connection for every other cart and store.
  const perTarget = positiveInteger(
    "ONECART_DB_MAX_PER_TARGET",
    env("ONECART_DB_MAX_PER_TARGET"),
    Math.min(2, Math.max(1, poolSize - 1)),
  );
  return {
    url,
    poolSize,
    perTarget: Math.min(perTarget, poolSize),
    lockWaitMs: LOCK_WAIT_MS,
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    connectTimeoutSeconds: CONNECT_TIMEOUT_SECONDS,
  };
}

/**
 * One connection of the instance: a postgres.js client of its own with one
 * connection, handed to one request at a time. postgres.js's own pool picks a
 * connection for a query by itself, and parks it (or pipelines it behind
 * another request's query) on a connection that cannot serve yet: one waiting
 * out its reconnect backoff, or still closing. The gate would count such a
 * slot as serving, and another store's request would wait behind a held cart.
 * A slot is the request's alone until its call, and any cancel of it, is done.
 */
interface Slot {
  client: ReturnType<typeof postgres>;
  /** The pool generation it belongs to: slots of a retired pool never serve again. */
  generation: number;
}

/** A request's hold on a slot and its place at the gate, given back once. */
interface Lease {
  slot: Slot;
  release(): void;
}

interface Database {
  /** performance.now() of the last maintenance-schedule check. */
  scheduleCheckedAt: number;
  settings: DbSettings;
  /** Slots no request holds; the gate admits no more requests than there are. */
  free: Slot[];
  leases: Set<Lease>;
  gate: ConnectionGate;
  /** Calls postgres.js has handed to a connection: they may have reached Postgres. */
  sent: Set<number>;
  calls: number;
  /** How many times the pool was replaced: a call retires only the pool it ran on. */
  generation: number;
}

let database: Database | undefined;

// Every call's text starts with this mark, so the debug hook (which postgres.js
// calls just before it writes a query to a socket) tells which calls were sent.
const MARK = /^\/\* onecart call (\d+) \*\//;

/**
 * postgres.js waits before reconnecting, up to 20 s after a run of failed
 * connects (a restart, a pooler at its limit), and the next call on that
 * connection waits with it, holding its slot. A failed connect answers
 * `unavailable` at once and the client paces its retries by Retry-After, so a
 * short pause is enough to keep a connection that keeps closing from spinning.
 */
const reconnectDelaySeconds = (failures: number) => Math.min(0.02 * 2 ** failures, 0.25);

function newClient(settings: DbSettings, sent: Set<number>): ReturnType<typeof postgres> {
  return postgres(settings.url, {
    prepare: false,
    fetch_types: false,
    max: 1,
    idle_timeout: 30,
    connect_timeout: settings.connectTimeoutSeconds,
    backoff: reconnectDelaySeconds,
    onnotice: () => {},
    debug: (_connection: number, query: string) => {
      const mark = MARK.exec(query);
      if (mark) sent.add(Number(mark[1]));
    },
  });
}

const newSlot = (db: Pick<Database, "settings" | "sent">, generation: number): Slot => ({
  client: newClient(db.settings, db.sent),
  generation,
});

/**
 * Gives the slot a new connection and closes the old one once its call is
 * over. After a cancel: the cancel request may still be on its way to the old
 * backend when the call settles (the statement had finished first), and would
 * cancel whatever that backend ran next. After the connection broke: postgres.js
 * hands a query to a connection that has failed but not yet closed and never
 * answers it (its close after an error rejects only the calls that were on it
 * before), so the slot would wait for the watchdog.
 */
function renew(db: Database, slot: Slot): void {
  const old = slot.client;
  slot.client = newClient(db.settings, db.sent);
  old.end({ timeout: 1 }).catch(() => {});
}

/**
 * Sends a cancel request for `query`'s statement. postgres.js's query.cancel()
 * drops the promise of the request it sends, so one that fails (the database
 * unreachable just then) would be an unhandled rejection; its canceller
 * returns that promise.
 */
function cancelStatement(query: { cancel(): void }): void {
  const withCanceller = query as unknown as { canceller?: ((q: unknown) => Promise<unknown>) | null };
  const canceller = withCanceller.canceller;
  if (typeof canceller !== "function") return void query.cancel();
  withCanceller.canceller = null;
  Promise.resolve(canceller(query)).catch(() => {});
}

const newSlots = (db: Pick<Database, "settings" | "sent">, generation: number) =>
  Array.from({ length: db.settings.poolSize }, () => newSlot(db, generation));

function open(): Database {
  if (database) return database;
  const settings = readSettings();
  const sent = new Set<number>();
  database = {
    scheduleCheckedAt: -Infinity,
    settings,
    free: newSlots({ settings, sent }, 0),
    leases: new Set(),
    gate: new ConnectionGate(settings.poolSize, settings.perTarget),
    sent,
    calls: 0,
    generation: 0,
  };
  return database;
}

/** Takes a free slot for a request the gate admitted. */
function lease(db: Database, admitted: Release): Lease {
  // The gate admits no more requests than there are slots, so one is free; the
  // one given back last is the likeliest to have its connection open.
  const slot = db.free.pop();
  if (!slot) throw new Error("the gate admitted a request with no free connection");
  let released = false;
  const held: Lease = {
    slot,
    release() {
      if (released) return;
      released = true;
      db.leases.delete(held);
      if (slot.generation === db.generation) db.free.push(slot);
      admitted();
    },
  };
  db.leases.add(held);
  return held;
}

/**
 * A connection that stays silent past every server-side limit is gone (a dead
 * network path, a pooler that lost its end), and postgres.js would keep it,
 * and the call on it, until TCP gives up, minutes later. Its siblings are
 * likely on the same dead path. New calls go to new connections at once; the
 * calls still running on the old ones no longer count at the gate (their
 * connections may be as dead), and have the watchdog's time to finish before
 * every old socket is closed.
 */
function retirePool(db: Database, generation: number): void {
  // Calls on a dead path time out one after another; only the first replaces
  // the pool, or each would close the fresh pool the one before it opened.
  if (db.generation !== generation) return;
  db.generation++;
  const old = [...db.free, ...[...db.leases].map((l) => l.slot)];
  db.free = newSlots(db, db.generation);
  for (const held of [...db.leases]) held.release();
  for (const slot of old) {
    slot.client.end({ timeout: Math.ceil(watchdogLimitMs(db.settings) / 1000) }).catch(() => {});
  }
  console.log(JSON.stringify({ level: "warn", msg: "a database connection went silent; the pool was replaced" }));
}

/**
 * A statement cannot outlive statement_timeout on the server, nor a connect its
 * timeout: past both (twice the connect, for the one retry), a call with no
 * answer is on a connection that went silent.
 */
function watchdogLimitMs(settings: DbSettings): number {
  return settings.statementTimeoutMs + 2 * settings.connectTimeoutSeconds * 1000 + 1000;
}

/**
 * Runs one simple query on the request's slot. A call that provably never
 * reached Postgres (the connection failed before postgres.js wrote the query)
 * is tried once more on a fresh connection; one that may have reached it is
 * not, since it may have committed: the client retries that with its
 * idempotency key.
 *
 * When the request's client goes away, the statement is cancelled (a cancel
 * request for its backend, as pg_cancel_backend): what it had not committed is
 * rolled back, and the call ends ClientGone. A call that committed before the
 * cancel arrived stays committed, and its client's retry with the same key
 * finds it.
 */
async function simple(db: Database, slot: Slot, text: string, admission: Admission): Promise<unknown> {
  const { signal } = admission;
  for (let attempt = 1;; attempt++) {
    if (signal?.aborted) throw new ClientGone();
    const call = ++db.calls;
    const query = slot.client.unsafe(`/* onecart call ${call} */ ${text}`).simple();
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      cancelStatement(query);
    };
    signal?.addEventListener("abort", cancel, { once: true });
    let broken = false;
    try {
      return await query;
    } catch (error) {
      broken = !isStatementError(error);
      if (signal?.aborted) throw new ClientGone();
      if (db.sent.has(call) || attempt > 1 || admission.retryUnsent === false) throw error;
      console.log(JSON.stringify({
        level: "warn",
        msg: "retrying a call that never reached the database",
        error: (error as { code?: string }).code ?? String(error),
      }));
    } finally {
      signal?.removeEventListener("abort", cancel);
      db.sent.delete(call);
      if ((cancelled || broken) && slot.generation === db.generation) renew(db, slot);
    }
  }
}

/**
 * An error of the statement (severity ERROR): the connection is fine. Anything
 * else (a reset, a close, a FATAL such as a terminated backend) broke it.
 */
function isStatementError(error: unknown): boolean {
  return error instanceof postgres.PostgresError && error.severity === "ERROR";
}

function watchdog<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export interface Admission {
  /** The cart or location the request is about: it may hold only its share of the pool. */
  target?: string | null;
  /**
   * The request's signal: a request whose client has gone is not sent, and
   * its statement is cancelled if it was.
   */
  signal?: AbortSignal;
  /** How long it may wait for a connection, when not the contract's 3 s (the local PostgREST's 10 s). */
  waitMs?: number;
  /** false: a call that never reached Postgres is not tried again (for work that can wait). */
  retryUnsent?: boolean;
}

/**
 * Runs `fn` with a connection of its own once the gate admits the request,
 * passing the milliseconds left of the request's 3 s wait budget, which the
 * call uses as its lock_timeout. Throws `busy` when no connection is free for
 * it within that budget, ClientGone when its client left before its call
 * committed (nothing of it is applied), and `unavailable` (through the mapping
 * of the connection error) when the database cannot be reached.
 */
export async function withDatabase<T>(
  admission: Admission,
  fn: (sql: SqlClient, lockWaitMs: number) => Promise<T>,
): Promise<T> {
  const db = open();
  ensureScheduleNowAndThen(db);
  const { signal } = admission;
  const deadline = performance.now() + (admission.waitMs ?? db.settings.lockWaitMs);
  let admitted: Release;
  try {
    admitted = await db.gate.acquire(admission.target ?? null, { deadline, signal });
  } catch (error) {
    throw error instanceof GateTimeout ? busyError() : error;
  }
  if (signal?.aborted) {
    admitted();
    throw new ClientGone();
  }
  const held = lease(db, admitted);
  const lockWaitMs = Math.max(50, Math.round(deadline - performance.now()));
  const generation = db.generation;
  const client: SqlClient = { unsafe: (text) => ({ simple: () => simple(db, held.slot, text, admission) }) };
  let work: Promise<T>;
  try {
    work = fn(client, lockWaitMs);
  } catch (error) {
    held.release();
    throw error;
  }
  // The slot is given back when the call settles: until then its connection is
  // still in use.
  work.then(held.release, held.release);
  // A connection that went silent (no answer, no reset) would otherwise keep
  // the request, and its slot, waiting for TCP keepalive. Its pool is retired,
  // which frees the slot at once.
  return await watchdog(work, watchdogLimitMs(db.settings), () => {
    retirePool(db, generation);
    held.release();
    return Object.assign(new Error("no answer from the database"), { code: "ETIMEDOUT" });
  });
}

// pg_cron may be enabled after the migrations ran, and nothing in the database
// can notice (see sql/schedule/pg_cron.sql): each function instance ensures the
// maintenance schedule when it first connects and every ten minutes after.
const SCHEDULE_CHECK_MS = 10 * 60_000;

function ensureScheduleNowAndThen(db: Database): void {
  if (performance.now() - db.scheduleCheckedAt <= SCHEDULE_CHECK_MS) return;
  db.scheduleCheckedAt = performance.now();
  // Never in a request's way: it takes its turn at the gate like any call, with
  // the same bounded waits, and a failure (an older schema, a busy database)
  // waits for the next check, untried again.
  withDatabase({ retryUnsent: false }, (sql) =>
    sql.unsafe(
      "select set_config('lock_timeout', '3s', true), set_config('statement_timeout', '8s', true);\n" +
        "select pos.ensure_maintenance_schedule()",
    ).simple()).catch(() => {});
}
