// Calls an onecart RPC the way PostgREST does: one transaction, `role` and
// `request.jwt.claims` set locally, so auth.uid(), RLS and grants behave the
// same whether a client calls an edge function or supabase.rpc(). Used by the
// edge functions and, unchanged, by the tests.

/** The RPCs and their parameters with SQL types, in declaration order. */
export const RPCS = {
  get_or_create_cart: { p_location_id: "uuid", p_customer_id: "uuid", p_device_id: "text" },
  get_cart: { p_cart_id: "uuid" },
  list_open_carts: { p_location_id: "uuid" },
  get_cart_history: { p_cart_id: "uuid" },
  add_item: {
    p_cart_id: "uuid", p_product_id: "uuid", p_quantity: "integer", p_options: "jsonb",
    p_expected_version: "bigint", p_idempotency_key: "text",
  },
  set_item_quantity: {
    p_cart_id: "uuid", p_item_id: "uuid", p_quantity: "integer",
    p_expected_version: "bigint", p_idempotency_key: "text",
  },
  remove_item: { p_cart_id: "uuid", p_item_id: "uuid", p_expected_version: "bigint", p_idempotency_key: "text" },
  lock_cart: {
    p_cart_id: "uuid", p_checkout_ref: "text", p_ttl_seconds: "integer",
    p_expected_version: "bigint", p_idempotency_key: "text",
  },
  update_cart_lock: {
    p_cart_id: "uuid", p_lock_token: "uuid", p_checkout_ref: "text",
    p_expected_version: "bigint", p_idempotency_key: "text",
  },
  unlock_cart: { p_cart_id: "uuid", p_lock_token: "uuid", p_expected_version: "bigint", p_idempotency_key: "text" },
  complete_checkout: {
    p_cart_id: "uuid", p_lock_token: "uuid", p_checkout_ref: "text", p_paid_total_cents: "bigint",
    p_expected_version: "bigint", p_idempotency_key: "text",
  },
  add_to_queue: { p_location_id: "uuid", p_customer_id: "uuid", p_idempotency_key: "text" },
  get_queue: { p_location_id: "uuid" },
  call_next: { p_location_id: "uuid", p_idempotency_key: "text" },
  complete_queue_entry: { p_entry_id: "uuid" },
  leave_queue: { p_entry_id: "uuid" },
  expire_cart_locks: {},
  merge_duplicate_carts: {},
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
  begin<T>(fn: (tx: TxClient) => Promise<T>): Promise<T>;
}
export interface TxClient {
  unsafe(query: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
}

// postgres.js learns each parameter's type from the server (the casts below) and
// serializes jsonb itself; everything else goes as text for Postgres to parse.
function toParam(type: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === "jsonb") return value;
  return String(value);
}

/** The SQL text and parameters of one call, arguments named as PostgREST names them. */
export function rpcQuery<N extends RpcName>(name: N, args: RpcArgs<N>): { text: string; params: unknown[] } {
  const signature = RPCS[name] as Record<string, string>;
  const named: string[] = [];
  const params: unknown[] = [];
  for (const [param, value] of Object.entries(args)) {
    const type = signature[param];
    if (!type) throw new TypeError(`${name} has no parameter ${param}`);
    if (value === undefined) continue; // omitted: the SQL default applies
    params.push(toParam(type, value));
    named.push(`${param} => $${params.length}::${type}`);
  }
  return { text: `select public.${name}(${named.join(", ")}) as result`, params };
}

export async function callRpc<N extends RpcName>(
  sql: SqlClient,
  name: N,
  args: RpcArgs<N>,
  claims: Claims,
): Promise<unknown> {
  const query = rpcQuery(name, args);
  return await sql.begin(async (tx) => {
    // Sent together: postgres.js pipelines both on the transaction's connection.
    const [, rows] = await Promise.all([
      tx.unsafe("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [
        claims.role,
        JSON.stringify(claims),
      ]),
      tx.unsafe(query.text, query.params),
    ]);
    return rows[0].result;
  });
}
