// What a store shows an app: a cart or a queue as confirmed, with this
// device's pending actions, its refusals and whether it is followed live.
import type { Action, ActionKind } from "./actions.ts";
import type { OnecartError } from "./errors.ts";
import type { Cart, QueueSnapshot } from "./types.ts";

/** Where a pending action stands. */
export interface PendingAction {
  key: string;
  kind: ActionKind;
  action: Action;
  /**
   * `queued`: waits for an earlier action of its cart; `sending`: on the wire or
   * between tries; `offline`: paused until the network returns; `signed_out`:
   * refused for want of a session, kept until someone signs in again.
   */
  status: "queued" | "sending" | "offline" | "signed_out";
  failureCount: number;
  lastError: OnecartError | null;
}

export interface Rejection {
  key: string;
  action: Action;
  error: OnecartError;
  at: number;
}

export type LiveStatus = "off" | "connecting" | "live" | "error";

export interface CartState {
  /** What to show: the confirmed cart with this device's pending actions applied on top. */
  cart: Cart | null;
  /** The newest snapshot the server has confirmed (a response or a broadcast). */
  confirmed: Cart | null;
  /** This device's actions on the cart not yet confirmed, in the order they were made. */
  pending: PendingAction[];
  /** Actions the server refused (or that gave up), newest last, until dismissed. */
  rejected: Rejection[];
  live: LiveStatus;
}

export interface QueueState {
  queue: QueueSnapshot | null;
  pending: PendingAction[];
  rejected: Rejection[];
  live: LiveStatus;
}

export interface ActionHandle<T> {
  key: string;
  action: Action;
  /** Settles when the server has answered for good: the result, or the OnecartError that rejected it. */
  done: Promise<T>;
}
