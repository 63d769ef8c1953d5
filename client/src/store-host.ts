// What a cart or queue store needs of its client, and nothing more: the
// stores know this interface, not the client behind it.
import type { Action } from "./actions.ts";
import type { LiveHost } from "./live-channel.ts";
import type { ActionHandle, CartState, LiveStatus, QueueState, Rejection } from "./state.ts";
import type { Cart, QueueSnapshot } from "./types.ts";

/** An action before it has its key and time. */
export type ActionDraft = Action extends infer A ? A extends Action ? Omit<A, "key" | "createdAt"> : never : never;

export interface StoreHost extends LiveHost {
  /** A new action of this device, given its key and time here: kept, queued in its cart's (or queue's) turn. */
  act<T>(action: ActionDraft): ActionHandle<T>;
  /** A new idempotency key. */
  newKey(): string;
  cartState(cartId: string, rejected: Rejection[], live: LiveStatus): CartState;
  queueState(locationId: string, rejected: Rejection[], live: LiveStatus): QueueState;
  /** Reads the cart; the answer replaces the confirmed snapshot if newer. */
  fetchCart(cartId: string): Promise<Cart>;
  /** A cart broadcast: applied only when newer than the one held. */
  receiveCart(cartId: string, payload: unknown): void;
  fetchQueue(locationId: string): Promise<QueueSnapshot>;
  setQueue(queue: QueueSnapshot): void;
}
