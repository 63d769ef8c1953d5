// One postgres.js pool per function instance. prepare: false because Supabase's
// transaction pooler (Supavisor, port 6543) cannot keep prepared statements.
import postgres from "npm:postgres@3.4.9";
import type { SqlClient } from "./rpc.ts";

let pool: ReturnType<typeof postgres> | undefined;

export function db(): SqlClient {
  if (!pool) {
    const url = Deno.env.get("SUPABASE_DB_URL");
    if (!url) throw new Error("SUPABASE_DB_URL is not set");
    pool = postgres(url, {
      prepare: false,
      max: Number(Deno.env.get("ONECART_DB_POOL_SIZE") ?? 10),
      idle_timeout: 30,
      onnotice: () => {},
    });
  }
  return pool as unknown as SqlClient;
}
