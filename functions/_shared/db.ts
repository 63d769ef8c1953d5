// One postgres.js pool per function instance. prepare: false because Supabase's
// transaction pooler (Supavisor, port 6543) cannot keep prepared statements.
import postgres from "npm:postgres@3.4.9";
import type { SqlClient } from "./rpc.ts";

let pool: ReturnType<typeof postgres> | undefined;

// pg_cron may be enabled after the migrations ran, and nothing in the database
// can notice (see sql/schedule/pg_cron.sql): each function instance ensures the
// maintenance schedule when it first connects and every ten minutes after.
const SCHEDULE_CHECK_MS = 10 * 60_000;
let scheduleCheckedAt = -Infinity;

export function db(): SqlClient {
  if (pool && Date.now() - scheduleCheckedAt > SCHEDULE_CHECK_MS) {
    scheduleCheckedAt = Date.now();
    // Never in a request's way: a failure (an older schema, a busy database) waits for the next check.
    pool`select pos.ensure_maintenance_schedule()`.catch(() => {});
  }
  if (!pool) {
    const url = Deno.env.get("SUPABASE_DB_URL");
    if (!url) throw new Error("SUPABASE_DB_URL is not set");
    pool = postgres(url, {
      prepare: false,
      max: Number(Deno.env.get("ONECART_DB_POOL_SIZE") ?? 10),
      idle_timeout: 30,
      onnotice: () => {},
    });
    return db();
  }
  return pool as unknown as SqlClient;
}
