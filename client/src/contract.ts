// The contract's operations, written once: for each, the RPC it calls, the
// edge-function route that fronts it (if any), where each argument goes on
// that route, and whether it takes an idempotency key. Both transports are
// driven from this table; tests check it against the SQL catalog's real
// signatures, the functions' routes and docs/api.md.
import type { RpcName } from "./types.ts";

/** Where a route takes an argument: in its path (`:name`), its query string, or its JSON body. */
export type ArgPlace = "path" | "query" | "body";

export interface Operation {
  rpc: RpcName;
  /** The edge-function route; absent for operations that exist only as RPCs. */
  route?: { fn: "carts" | "queue"; method: "GET" | "POST" | "PATCH" | "DELETE"; path: string };
  /** Every argument (without the `p_` prefix, without the key), in the RPC's order, and where the route takes it. */
  args: Readonly<Record<string, ArgPlace>>;
  /** Whether the RPC takes `p_idempotency_key` (and the route the `Idempotency-Key` header). */
  key: boolean;
}

const carts = (method: NonNullable<Operation["route"]>["method"], path = "") =>
  ({ fn: "carts", method, path }) as const;
const queue = (method: NonNullable<Operation["route"]>["method"], path = "") =>
  ({ fn: "queue", method, path }) as const;

export const OPERATIONS = {
  getOrCreateCart: {
    rpc: "get_or_create_cart",
    route: carts("POST"),
    args: { location_id: "body", customer_id: "body", device_id: "body" },
    key: false,
  },
  getCart: { rpc: "get_cart", route: carts("GET", "/:cart_id"), args: { cart_id: "path" }, key: false },
  listOpenCarts: { rpc: "list_open_carts", route: carts("GET"), args: { location_id: "query" }, key: false },
  getCartHistory: {
    rpc: "get_cart_history",
    route: carts("GET", "/:cart_id/history"),
    args: { cart_id: "path" },
    key: false,
  },
  addItem: {
    rpc: "add_item",
    route: carts("POST", "/:cart_id/items"),
    args: { cart_id: "path", product_id: "body", quantity: "body", options: "body", expected_version: "body" },
    key: true,
  },
  setItemQuantity: {
    rpc: "set_item_quantity",
    route: carts("PATCH", "/:cart_id/items/:item_id"),
    args: { cart_id: "path", item_id: "path", quantity: "body", expected_version: "body" },
    key: true,
  },
  removeItem: {
    rpc: "remove_item",
    route: carts("DELETE", "/:cart_id/items/:item_id"),
    args: { cart_id: "path", item_id: "path", expected_version: "query" },
    key: true,
  },
  lockCart: {
    rpc: "lock_cart",
    route: carts("POST", "/:cart_id/lock"),
    args: { cart_id: "path", checkout_ref: "body", ttl_seconds: "body", expected_version: "body" },
    key: true,
  },
  updateCartLock: {
    rpc: "update_cart_lock",
    route: carts("PATCH", "/:cart_id/lock"),
    args: { cart_id: "path", lock_token: "body", checkout_ref: "body", expected_version: "body" },
    key: true,
  },
  unlockCart: {
    rpc: "unlock_cart",
    route: carts("DELETE", "/:cart_id/lock"),
    args: { cart_id: "path", lock_token: "body", expected_version: "body" },
    key: true,
  },
  completeCheckout: {
    rpc: "complete_checkout",
    route: carts("POST", "/:cart_id/checkout"),
    args: {
      cart_id: "path",
      lock_token: "body",
      checkout_ref: "body",
      paid_total_cents: "body",
      expected_version: "body",
    },
    key: true,
  },
  addToQueue: {
    rpc: "add_to_queue",
    route: queue("POST"),
    args: { location_id: "body", customer_id: "body" },
    key: true,
  },
  getQueue: { rpc: "get_queue", route: queue("GET"), args: { location_id: "query" }, key: false },
  callNext: { rpc: "call_next", route: queue("POST", "/next"), args: { location_id: "body" }, key: true },
  completeQueueEntry: {
    rpc: "complete_queue_entry",
    route: queue("POST", "/:entry_id/complete"),
    args: { entry_id: "path" },
    key: false,
  },
  leaveQueue: { rpc: "leave_queue", route: queue("DELETE", "/:entry_id"), args: { entry_id: "path" }, key: false },
  // Operations (v1.1) for an owner's or manager's screen: RPCs only.
  releaseCartLock: { rpc: "release_cart_lock", args: { cart_id: "body", reason: "body" }, key: false },
  abandonCart: { rpc: "abandon_cart", args: { cart_id: "body", reason: "body" }, key: false },
  repairCartTotals: { rpc: "repair_cart_totals", args: { cart_id: "body", reason: "body" }, key: false },
  mergeStoreDuplicateCarts: {
    rpc: "merge_store_duplicate_carts",
    args: { store_id: "body", reason: "body" },
    key: false,
  },
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;

/** The operation that calls an RPC (action kinds are RPC names). */
export function operationOf(rpc: RpcName): OperationName {
  const found = (Object.keys(OPERATIONS) as OperationName[]).find((name) => OPERATIONS[name].rpc === rpc);
  if (!found) throw new TypeError(`No contract operation calls ${rpc}.`);
  return found;
}
