// The rebase of a device's pending actions over confirmed snapshots: the
// server's newest snapshot of a cart is the base, this device's pending
// actions are applied on top for the screen, and a snapshot that may already
// hold an in-flight action's change waits for that action's answer, or the
// screen would show the change twice.
import type { QueryClient } from "@tanstack/query-core";
import { applyOptimistic, type CartAction } from "./actions.ts";
import { CART_KEY, isCart } from "./snapshots.ts";
import type { Cart } from "./types.ts";

export class CartBase {
  /** Per cart, the action sent and not yet answered for good (only one: a cart's actions go one at a time). */
  readonly inFlight = new Map<string, string>();
  /** Actions whose answer is in the base already, in the moment before TanStack marks them done. */
  readonly answered = new Set<string>();
  /** Per cart, the newest snapshot held back while an action of this device is in flight. */
  readonly #deferred = new Map<string, Cart>();
  readonly #queryClient: QueryClient;

  constructor(queryClient: QueryClient) {
    this.#queryClient = queryClient;
  }

  /** The newest snapshot the server has confirmed and the screen is based on. */
  confirmed(cartId: string): Cart | undefined {
    return this.#queryClient.getQueryData<Cart>(CART_KEY(cartId));
  }

  /** What to show: the confirmed cart with the pending actions applied in order. */
  view(confirmed: Cart | null, pending: CartAction[]): Cart | null {
    return confirmed && pending.reduce((view, action) => applyOptimistic(view, action), confirmed);
  }

  /**
   * A snapshot from the server replaces the base when it is newer; the pending
   * actions are re-applied on top. While one of them is in flight, a snapshot
   * from elsewhere (a broadcast, a read) waits for that action's answer.
   */
  apply(cart: Cart, fromAnswer = false): void {
    if (!fromAnswer && this.inFlight.has(cart.id)) {
      const deferred = this.#deferred.get(cart.id);
      if (!deferred || cart.version > deferred.version) this.#deferred.set(cart.id, cart);
      return;
    }
    this.#setBase(cart);
  }

  /** An action's answer, which is the newest snapshot for its cart. */
  answer(action: CartAction, data: unknown): void {
    if (isCart(data)) {
      this.answered.add(action.key);
      this.apply(data, true);
    }
    this.settle(action);
  }

  /** An action of the cart has its final answer: the snapshots held back meanwhile apply now. */
  settle(action: CartAction): void {
    if (this.inFlight.get(action.cartId) === action.key) this.inFlight.delete(action.cartId);
    const deferred = this.#deferred.get(action.cartId);
    this.#deferred.delete(action.cartId);
    if (deferred) this.apply(deferred);
  }

  /**
   * A broadcast: applied only when newer than the newest held (held back or
   * not). Returns whether versions were skipped, so the cart must be read again.
   */
  receive(cartId: string, payload: unknown): boolean {
    if (!isCart(payload) || payload.id !== cartId) return false;
    const held = this.#newest(cartId);
    if (held && payload.version <= held.version) return false;
    this.apply(payload);
    return !!held && payload.version > held.version + 1;
  }

  #newest(cartId: string): Cart | undefined {
    const held = this.confirmed(cartId);
    const deferred = this.#deferred.get(cartId);
    return deferred && (!held || deferred.version > held.version) ? deferred : held;
  }

  #setBase(cart: Cart): void {
    const key = CART_KEY(cart.id);
    const held = this.#queryClient.getQueryData<Cart>(key);
    if (!held || cart.version > held.version) {
      this.#queryClient.setQueryData(key, cart);
    } else if (cart.version === held.version && cart.lock?.token && held.lock && !held.lock.token) {
      // The same version seen first as a broadcast: keep the token only our own lock answer carries.
      this.#queryClient.setQueryData(key, { ...held, lock: { ...held.lock, token: cart.lock.token } });
    }
  }
}
