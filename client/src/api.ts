// One typed call per operation of the contract, one attempt each, over a
// transport (transport.ts). Retries, ordering and offline are the layers
// above; here a call either answers or throws one OnecartError.
import { type OperationName, OPERATIONS } from "./contract.ts";
import type { Caller } from "./transport.ts";
import type { ArgsOf, Cart, CartHistoryEvent, LockedCart, QueueEntry, QueueJoin, QueueSnapshot } from "./types.ts";

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

// The typed API and the contract table name the same operations.
type SameNames = [ApiMethod] extends [OperationName] ? ([OperationName] extends [ApiMethod] ? true : false) : false;
const sameNames: SameNames = true;
void sameNames;

/** The typed, single-attempt API over a caller. */
export function createApi(call: Caller): OnecartApi {
  const api = {} as Record<ApiMethod, (args: Record<string, unknown>, options?: CallOptions) => Promise<unknown>>;
  for (const method of Object.keys(OPERATIONS) as ApiMethod[]) {
    api[method] = (args, options) => call(method, args, options);
  }
  return api as unknown as OnecartApi;
}
