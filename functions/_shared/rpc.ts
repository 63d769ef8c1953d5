// Calls an onecart RPC the way PostgREST does: one transaction, `role` and
// `request.jwt.claims` set locally, so auth.uid(), RLS and grants behave the
// same whether a client calls an edge function or supabase.rpc(). Used by the
// edge functions and, unchanged, by the tests.
import { ApiError } from "./errors.ts";

/** The RPCs and their parameters with SQL types, in declaration order. */
export const RPCS = {
  get_or_create_cart: { p_location_id: "uuid", p_customer_id: "uuid", p_device_id: "text" },
  get_cart: { p_cart_id: "uuid" },
  list_open_carts: { p_location_id: "uuid" },
  get_cart_history: { p_cart_id: "uuid" },
  add_item: {
    p_cart_id: "uuid",
    p_product_id: "uuid",
    p_quantity: "integer",
    p_options: "jsonb",
    p_expected_version: "bigint",
    p_idempotency_key: "text",
  },
  set_item_quantity: {
    p_cart_id: "uuid",
    p_item_id: "uuid",
    p_quantity: "integer",
    p_expected_version: "bigint",
    p_idempotency_key: "text",
  },
  remove_item: { p_cart_id: "uuid", p_item_id: "uuid", p_expected_version: "bigint", p_idempotency_key: "text" },
  lock_cart: {
    p_cart_id: "uuid",
    p_checkout_ref: "text",
    p_ttl_seconds: "integer",
    p_expected_version: "bigint",
    p_idempotency_key: "text",
  },
  update_cart_lock: {
    p_cart_id: "uuid",
    p_lock_token: "uuid",
    p_checkout_ref: "text",
    p_expected_version: "bigint",
    p_idempotency_key: "text",
  },
  unlock_cart: { p_cart_id: "uuid", p_lock_token: "uuid", p_expected_version: "bigint", p_idempotency_key: "text" },
  complete_checkout: {
    p_cart_id: "uuid",
    p_lock_token: "uuid",
    p_checkout_ref: "text",
    p_paid_total_cents: "bigint",
    p_expected_version: "bigint",
    p_idempotency_key: "text",
  },
  add_to_queue: { p_location_id: "uuid", p_customer_id: "uuid", p_idempotency_key: "text" },
  get_queue: { p_location_id: "uuid" },
  get_staff_home: {},
  call_next: { p_location_id: "uuid", p_idempotency_key: "text" },
  complete_queue_entry: { p_entry_id: "uuid" },
  leave_queue: { p_entry_id: "uuid" },
  expire_cart_locks: {},
  merge_duplicate_carts: {},
  add_staff_member: { p_user_id: "uuid", p_store_id: "uuid", p_role: "text" },
  release_cart_lock: { p_cart_id: "uuid", p_reason: "text" },
  abandon_cart: { p_cart_id: "uuid", p_reason: "text" },
  repair_cart_totals: { p_cart_id: "uuid", p_reason: "text" },
  merge_store_duplicate_carts: { p_store_id: "uuid", p_reason: "text" },
  get_store_health: { p_store_id: "uuid", p_since: "timestamp with time zone" },
  list_store_alerts: { p_store_id: "uuid" },
  check_alerts: {},
  record_refusal: {
    p_code: "text",
    p_rpc: "text",
    p_cart_id: "uuid",
    p_location_id: "uuid",
    p_entry_id: "uuid",
  },
} as const satisfies Record<string, Record<string, string>>;

export type RpcName = keyof typeof RPCS;
export type RpcArgs<N extends RpcName> = { [K in keyof (typeof RPCS)[N]]?: unknown };

/** The JWT claims of the request; `role` is the Postgres role to act as. */
export interface Claims {
  role: string;
  sub?: string;
  [claim: string]: unknown;
}

/** The slice of a postgres.js `Sql` this module needs. */
export interface SqlClient {
  unsafe(query: string): { simple(): Promise<unknown> };
}

/**
 * A SQL literal of `type`. E'' strings escape backslashes themselves, so the
 * result does not depend on standard_conforming_strings.
 */
export function literal(type: string, value: unknown): string {
  if (value === null || value === undefined) return "null";
  const text = type === "jsonb" ? JSON.stringify(value) : String(value);
  if (text.includes("\0")) throw new ApiError("invalid_input", "Text may not contain NUL characters.");
  return `E'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'::${type}`;
}

/** The SQL of one call, arguments named as PostgREST names them. */
export function rpcStatement<N extends RpcName>(name: N, args: RpcArgs<N>): string {
  const signature = RPCS[name] as Record<string, string>;
  const named: string[] = [];
  for (const [param, value] of Object.entries(args)) {
    const type = signature[param];
    if (!type) throw new TypeError(`${name} has no parameter ${param}`);
    if (value === undefined) continue; // omitted: the SQL default applies
    named.push(`${param} => ${literal(type, value)}`);
  }
  return `select public.${name}(${named.join(", ")}) as result`;
}

/** Bounds on one call's waits, in milliseconds; null leaves the session's own setting. */
export interface CallLimits {
  /** lock_timeout: how long a lock may be waited for (the contract allows at most 3 s). */
  lockTimeoutMs?: number | null;
  /** statement_timeout: how long the RPC may run in all. */
  statementTimeoutMs?: number | null;
  /** More settings for this call only, e.g. the role's own as PostgREST applies them. */
  settings?: ReadonlyArray<readonly [name: string, value: string]>;
}

/** The longest a request may wait for a connection and a lock together: the contract's 3 s. */
export const LOCK_WAIT_MS = 3000;
/** statement_timeout of every call, as hosted PostgREST gives `authenticated`. */
export const STATEMENT_TIMEOUT_MS = 8000;

/** What every call gets unless it says otherwise. */
export const DEFAULT_LIMITS = { lockTimeoutMs: LOCK_WAIT_MS, statementTimeoutMs: STATEMENT_TIMEOUT_MS } as const;

function timeoutSetting(name: string, ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  // 0 would mean no limit at all.
  const value = Math.max(1, Math.round(ms));
  return `, set_config('${name}', '${value}ms', true)`;
}

/**
 * Runs the RPC in one round trip: a simple query of two statements is one
 * implicit transaction, so `set_config(..., true)` holds for exactly that call
 * and the cart's row lock is released at its commit, not a client round trip
 * later. It also passes through Supavisor's transaction pooler unchanged.
 * Postgres starts each statement's statement_timeout afresh, so the limit set
 * by the first statement bounds the RPC.
 */
export async function callRpc<N extends RpcName>(
  sql: SqlClient,
  name: N,
  args: RpcArgs<N>,
  claims: Claims,
  limits: CallLimits = {},
): Promise<unknown> {
  const lockTimeoutMs = limits.lockTimeoutMs === undefined ? DEFAULT_LIMITS.lockTimeoutMs : limits.lockTimeoutMs;
  const statementTimeoutMs = limits.statementTimeoutMs === undefined
    ? DEFAULT_LIMITS.statementTimeoutMs
    : limits.statementTimeoutMs;
  const text = `select set_config('role', ${literal("text", claims.role)}, true), ` +
    `set_config('request.jwt.claims', ${literal("text", JSON.stringify(claims))}, true)` +
    (limits.settings ?? []).map(([n, v]) => `, set_config(${literal("text", n)}, ${literal("text", v)}, true)`).join(
      "",
    ) +
    timeoutSetting("lock_timeout", lockTimeoutMs) + timeoutSetting("statement_timeout", statementTimeoutMs) + ";\n" +
    rpcStatement(name, args);
  const results = await sql.unsafe(text).simple() as Array<Array<{ result: unknown }>>;
  return results[1][0].result;
}
