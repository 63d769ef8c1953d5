// One typed call per route of the contract, one attempt each: through the edge
// functions (the default) or straight to the RPCs with `supabase.rpc()`.
// Retries, ordering and offline are the layers above; here a call either
// answers or throws one OnecartError.
import type { SupabaseClient } from "@supabase/supabase-js";
import { isContractErrorCode, OnecartError } from "./errors.ts";
import type {
  ArgsOf,
  Cart,
  CartHistoryEvent,
  LockedCart,
  QueueEntry,
  QueueJoin,
  QueueSnapshot,
  RpcName,
} from "./types.ts";

export interface CallOptions {
  /** Sent as `Idempotency-Key` (functions) or `p_idempotency_key` (rpc). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** Every contract route, typed by the RPC it calls. */
export interface OnecartApi {
  getOrCreateCart(args: ArgsOf<"get_or_create_cart">, options?: CallOptions): Promise<Cart>;
  getCart(args: ArgsOf<"get_cart">, options?: CallOptions): Promise<Cart>;
  listOpenCarts(args: ArgsOf<"list_open_carts">, options?: CallOptions): Promise<Cart[]>;
  getCartHistory(args: ArgsOf<"get_cart_history">, options?: CallOptions): Promise<CartHistoryEvent[]>;
  addItem(args: ArgsOf<"add_item">, options?: CallOptions): Promise<Cart>;
  setItemQuantity(args: ArgsOf<"set_item_quantity">, options?: CallOptions): Promise<Cart>;
  removeItem(args: ArgsOf<"remove_item">, options?: CallOptions): Promise<Cart>;
  lockCart(args: ArgsOf<"lock_cart">, options?: CallOptions): Promise<LockedCart>;
  updateCartLock(args: ArgsOf<"update_cart_lock">, options?: CallOptions): Promise<Cart>;
  unlockCart(args: ArgsOf<"unlock_cart">, options?: CallOptions): Promise<Cart>;
  completeCheckout(args: ArgsOf<"complete_checkout">, options?: CallOptions): Promise<Cart>;
  addToQueue(args: ArgsOf<"add_to_queue">, options?: CallOptions): Promise<QueueJoin>;
  getQueue(args: ArgsOf<"get_queue">, options?: CallOptions): Promise<QueueSnapshot>;
  /** null when no one waits. */
  callNext(args: ArgsOf<"call_next">, options?: CallOptions): Promise<QueueEntry | null>;
  completeQueueEntry(args: ArgsOf<"complete_queue_entry">, options?: CallOptions): Promise<QueueEntry>;
  leaveQueue(args: ArgsOf<"leave_queue">, options?: CallOptions): Promise<QueueEntry>;
  /** Operations (v1.1), for an owner's or manager's screen; RPCs only, so always through `supabase.rpc()`. */
  releaseCartLock(args: ArgsOf<"release_cart_lock">, options?: CallOptions): Promise<Cart>;
  abandonCart(args: ArgsOf<"abandon_cart">, options?: CallOptions): Promise<Cart>;
  repairCartTotals(args: ArgsOf<"repair_cart_totals">, options?: CallOptions): Promise<Cart>;
  /** The number of carts merged. */
  mergeStoreDuplicateCarts(args: ArgsOf<"merge_store_duplicate_carts">, options?: CallOptions): Promise<number>;
}

export type ApiMethod = keyof OnecartApi;
type OpsMethod = "releaseCartLock" | "abandonCart" | "repairCartTotals" | "mergeStoreDuplicateCarts";

/**
 * The RPC behind each call; whether the call changes something (and so sends
 * the key); whether it exists only as an RPC (no function route).
 */
export const RPC_OF: Record<ApiMethod, { rpc: RpcName; mutating: boolean; rpcOnly?: true }> = {
  getOrCreateCart: { rpc: "get_or_create_cart", mutating: false },
  getCart: { rpc: "get_cart", mutating: false },
  listOpenCarts: { rpc: "list_open_carts", mutating: false },
  getCartHistory: { rpc: "get_cart_history", mutating: false },
  addItem: { rpc: "add_item", mutating: true },
  setItemQuantity: { rpc: "set_item_quantity", mutating: true },
  removeItem: { rpc: "remove_item", mutating: true },
  lockCart: { rpc: "lock_cart", mutating: true },
  updateCartLock: { rpc: "update_cart_lock", mutating: true },
  unlockCart: { rpc: "unlock_cart", mutating: true },
  completeCheckout: { rpc: "complete_checkout", mutating: true },
  addToQueue: { rpc: "add_to_queue", mutating: true },
  getQueue: { rpc: "get_queue", mutating: false },
  callNext: { rpc: "call_next", mutating: true },
  completeQueueEntry: { rpc: "complete_queue_entry", mutating: true },
  leaveQueue: { rpc: "leave_queue", mutating: true },
  releaseCartLock: { rpc: "release_cart_lock", mutating: false, rpcOnly: true },
  abandonCart: { rpc: "abandon_cart", mutating: false, rpcOnly: true },
  repairCartTotals: { rpc: "repair_cart_totals", mutating: false, rpcOnly: true },
  mergeStoreDuplicateCarts: { rpc: "merge_store_duplicate_carts", mutating: false, rpcOnly: true },
};

type Args = Record<string, unknown>;
type Method = "GET" | "POST" | "PATCH" | "DELETE";

interface HttpRequest {
  fn: "carts" | "queue";
  method: Method;
  path: string;
  query?: Record<string, unknown>;
  body?: Record<string, unknown>;
}

const enc = encodeURIComponent;

/** Drops undefined fields: the functions refuse unknown ones, and undefined is not "null". */
function defined(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

/** The contract's route table, from the call's arguments. */
function route(method: Exclude<ApiMethod, OpsMethod>, a: Args): HttpRequest {
  const cart = `/${enc(String(a.cart_id))}`;
  switch (method) {
    case "getOrCreateCart":
      return {
        fn: "carts",
        method: "POST",
        path: "",
        body: defined({ location_id: a.location_id, customer_id: a.customer_id, device_id: a.device_id }),
      };
    case "getCart":
      return { fn: "carts", method: "GET", path: cart };
    case "listOpenCarts":
      return { fn: "carts", method: "GET", path: "", query: { location_id: a.location_id } };
    case "getCartHistory":
      return { fn: "carts", method: "GET", path: `${cart}/history` };
    case "addItem":
      return {
        fn: "carts",
        method: "POST",
        path: `${cart}/items`,
        body: defined({
          product_id: a.product_id,
          quantity: a.quantity,
          options: a.options,
          expected_version: a.expected_version,
        }),
      };
    case "setItemQuantity":
      return {
        fn: "carts",
        method: "PATCH",
        path: `${cart}/items/${enc(String(a.item_id))}`,
        body: defined({ quantity: a.quantity, expected_version: a.expected_version }),
      };
    case "removeItem":
      return {
        fn: "carts",
        method: "DELETE",
        path: `${cart}/items/${enc(String(a.item_id))}`,
        query: { expected_version: a.expected_version },
      };
    case "lockCart":
      return {
        fn: "carts",
        method: "POST",
        path: `${cart}/lock`,
        body: defined({
          checkout_ref: a.checkout_ref,
          ttl_seconds: a.ttl_seconds,
          expected_version: a.expected_version,
        }),
      };
    case "updateCartLock":
      return {
        fn: "carts",
        method: "PATCH",
        path: `${cart}/lock`,
        body: defined({ lock_token: a.lock_token, checkout_ref: a.checkout_ref }),
      };
    case "unlockCart":
      return { fn: "carts", method: "DELETE", path: `${cart}/lock`, body: defined({ lock_token: a.lock_token }) };
    case "completeCheckout":
      return {
        fn: "carts",
        method: "POST",
        path: `${cart}/checkout`,
        body: defined({ lock_token: a.lock_token, checkout_ref: a.checkout_ref, paid_total_cents: a.paid_total_cents }),
      };
    case "addToQueue":
      return {
        fn: "queue",
        method: "POST",
        path: "",
        body: defined({ location_id: a.location_id, customer_id: a.customer_id }),
      };
    case "getQueue":
      return { fn: "queue", method: "GET", path: "", query: { location_id: a.location_id } };
    case "callNext":
      return { fn: "queue", method: "POST", path: "/next", body: defined({ location_id: a.location_id }) };
    case "completeQueueEntry":
      return { fn: "queue", method: "POST", path: `/${enc(String(a.entry_id))}/complete` };
    case "leaveQueue":
      return { fn: "queue", method: "DELETE", path: `/${enc(String(a.entry_id))}` };
  }
}

function retryAfter(headers: Headers | undefined): number | null {
  const value = headers?.get("retry-after");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

/** A function's error answer, `{ error: { code, message, details } }`, as an OnecartError. */
async function fromResponse(response: Response): Promise<OnecartError> {
  let body: any = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy's or a crashed function's page. The status says enough.
  }
  const e = body?.error;
  const options = {
    status: response.status,
    details: e?.details ?? null,
    retryAfterSeconds: retryAfter(response.headers),
  };
  if (isContractErrorCode(e?.code)) return new OnecartError(e.code, String(e.message ?? e.code), options);
  if (response.status === 502 || response.status === 503 || response.status === 504) {
    // A gateway answering for a function it could not reach: onecart itself never answered.
    return new OnecartError(
      "network_error",
      `No answer from onecart (the gateway answered ${response.status}).`,
      options,
    );
  }
  if (response.status >= 500) {
    return new OnecartError("server_error", `The server answered ${response.status}.`, options);
  }
  // A 4xx without a contract code (a gateway's 401, say): keep the status, never retry it.
  const code = response.status === 401 ? "not_authenticated" : response.status === 404 ? "not_found" : "invalid_input";
  return new OnecartError(code, `The server answered ${response.status}.`, options);
}

function functionsCaller(supabase: SupabaseClient) {
  const rpc = rpcCaller(supabase);
  return async (method: ApiMethod, args: Args, options: CallOptions = {}): Promise<unknown> => {
    if (RPC_OF[method].rpcOnly) return rpc(method, args, options);
    const request = route(method as Exclude<ApiMethod, OpsMethod>, args);
    const query = Object.entries(request.query ?? {}).filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${enc(k)}=${enc(String(v))}`).join("&");
    const name = `${request.fn}${request.path}${query ? `?${query}` : ""}`;
    const headers: Record<string, string> = {};
    if (options.idempotencyKey && RPC_OF[method].mutating) headers["Idempotency-Key"] = options.idempotencyKey;
    const { data, error, response } = await supabase.functions.invoke(name, {
      method: request.method,
      headers,
      body: request.body as Record<string, unknown> | undefined,
      signal: options.signal,
    });
    if (error) {
      const context = (error as { context?: unknown }).context;
      if (context instanceof Response) throw await fromResponse(context);
      throw new OnecartError("network_error", "No answer from onecart: the network or the server is unreachable.", {
        cause: context ?? error,
      });
    }
    if (response?.status === 204 || data === "") return null;
    return data;
  };
}

function rpcCaller(supabase: SupabaseClient) {
  return async (method: ApiMethod, args: Args, options: CallOptions = {}): Promise<unknown> => {
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) if (v !== undefined) params[`p_${k}`] = v;
    if (options.idempotencyKey && RPC_OF[method].mutating) params.p_idempotency_key = options.idempotencyKey;
    let builder = supabase.rpc(RPC_OF[method].rpc as never, params as never);
    if (options.signal) builder = builder.abortSignal(options.signal);
    const { data, error, status } = await builder;
    if (!error) return data;
    if (!status) {
      throw new OnecartError("network_error", "No answer from onecart: the network or the server is unreachable.", {
        cause: error,
      });
    }
    // PostgREST: MESSAGE is the code, DETAIL the sentence, HINT the details as JSON.
    let details: unknown = null;
    if (error.hint) {
      try {
        details = JSON.parse(error.hint);
      } catch {
        details = { hint: error.hint };
      }
    }
    if (isContractErrorCode(error.message)) {
      return Promise.reject(new OnecartError(error.message, error.details || error.message, { status, details }));
    }
    if (status === 502 || status === 503 || status === 504) {
      throw new OnecartError("network_error", `No answer from onecart (the gateway answered ${status}).`, { status });
    }
    if (status >= 500) {
      throw new OnecartError("server_error", error.message || `The server answered ${status}.`, { status });
    }
    throw new OnecartError(
      status === 401 ? "not_authenticated" : status === 404 ? "not_found" : "invalid_input",
      error.message || `The server answered ${status}.`,
      { status, details },
    );
  };
}

export type Caller = (method: ApiMethod, args: Args, options?: CallOptions) => Promise<unknown>;

export function createCaller(supabase: SupabaseClient, via: "functions" | "rpc"): Caller {
  return via === "rpc" ? rpcCaller(supabase) : functionsCaller(supabase);
}

/** The typed, single-attempt API over a caller. */
export function createApi(call: Caller): OnecartApi {
  const api = {} as Record<ApiMethod, (args: Args, options?: CallOptions) => Promise<unknown>>;
  for (const method of Object.keys(RPC_OF) as ApiMethod[]) {
    api[method] = (args, options) => call(method, args as Args, options);
  }
  return api as unknown as OnecartApi;
}
