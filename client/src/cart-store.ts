// A cart as one device sees it: the confirmed snapshot with this device's
// pending actions on top, its refusals, and the taps that make new actions.
import type { ItemOptions, LineRef } from "./actions.ts";
import { OnecartError } from "./errors.ts";
import { LiveChannel } from "./live-channel.ts";
import { Observable } from "./observable.ts";
import type { ActionHandle, CartState, Rejection } from "./state.ts";
import type { StoreHost } from "./store-host.ts";
import type { Cart, LockedCart } from "./types.ts";

const noop = () => {};

export class CartStore extends Observable<CartState> {
  #rejected: Rejection[] = [];
  readonly #live: LiveChannel;

  readonly id: string;
  private readonly client: StoreHost;

  constructor(id: string, client: StoreHost) {
    super(() => client.cartState(id, this.#rejected, this.#live.status));
    this.id = id;
    this.client = client;
    this.#live = new LiveChannel({
      host: client,
      topic: `cart:${id}`,
      event: "cart_updated",
      onPayload: (payload) => client.receiveCart(id, payload),
      onSubscribed: () => void this.refetch().catch(noop),
      onStatus: () => this.changed(),
    });
  }

  /** @internal */
  notify(): void {
    this.changed();
  }

  /** @internal */
  reject(rejection: Rejection): void {
    this.#rejected = [...this.#rejected, rejection].slice(-50);
    this.changed();
  }

  /** Forgets a rejection once the app has shown it. */
  dismiss(key: string): void {
    this.#rejected = this.#rejected.filter((r) => r.key !== key);
    this.changed();
  }

  /** Reads the cart now; the answer replaces the confirmed snapshot if it is newer. */
  refetch(): Promise<Cart> {
    return this.client.fetchCart(this.id);
  }

  addItem(productId: string, options: {
    quantity?: number;
    options?: ItemOptions;
    /** What to show on the pending line until the server answers with the product's name and price. */
    display?: { name?: string; unitPriceCents?: number };
  } = {}): ActionHandle<Cart> {
    return this.client.act({
      kind: "add_item",
      cartId: this.id,
      productId,
      quantity: options.quantity ?? 1,
      options: options.options ?? {},
      display: options.display,
    });
  }

  /** `line`: an item id from the cart shown (a pending line too), or the line's product and options. */
  setQuantity(line: LineRef | string, quantity: number): ActionHandle<Cart> {
    return this.client.act({
      kind: "set_item_quantity",
      cartId: this.id,
      line: this.#lineRef(line),
      quantity,
    });
  }

  removeItem(line: LineRef | string): ActionHandle<Cart> {
    return this.client.act({
      kind: "remove_item",
      cartId: this.id,
      line: this.#lineRef(line),
    });
  }

  /** Locks the cart for payment; the answer's `lock.token` is what update, unlock and complete need. */
  lock(options: { checkoutRef?: string; ttlSeconds?: number } = {}): ActionHandle<LockedCart> {
    return this.client.act({
      kind: "lock_cart",
      cartId: this.id,
      checkoutRef: options.checkoutRef,
      ttlSeconds: options.ttlSeconds,
    });
  }

  /** Swaps the checkout ref for the payment's real id once the terminal has one. */
  updateLock(options: { lockToken: string; checkoutRef: string }): ActionHandle<Cart> {
    return this.client.act({ kind: "update_cart_lock", cartId: this.id, ...options });
  }

  unlock(options: { lockToken: string }): ActionHandle<Cart> {
    return this.client.act({ kind: "unlock_cart", cartId: this.id, ...options });
  }

  /** Completes the checkout with the paid total; repeating it with the same token and ref returns the same cart. */
  complete(options: { lockToken: string; checkoutRef: string; paidTotalCents: number }): ActionHandle<Cart> {
    return this.client.act({ kind: "complete_checkout", cartId: this.id, ...options });
  }

  /**
   * The whole checkout by the contract's lock rules: lock (after every pending
   * action of this device), take the payment, swap the provisional checkout
   * ref for the payment's id, complete with the paid total. If the lock
   * expired while the payment went through, completing with the same token
   * still works as long as no item changed; if one did, the OnecartError
   * `cart_changed` carries `details.payment` so the app can refund or re-lock.
   */
  async checkout(options: {
    pay: (
      lock: { totalCents: number; checkoutRef: string; cart: LockedCart },
    ) => Promise<{ paymentId: string; paidTotalCents: number }>;
    ttlSeconds?: number;
    checkoutRef?: string;
  }): Promise<Cart> {
    const provisional = options.checkoutRef ?? `checkout-${this.client.newKey()}`;
    const locked = await this.lock({ checkoutRef: provisional, ttlSeconds: options.ttlSeconds }).done;
    const lockToken = locked.lock.token;
    let payment: { paymentId: string; paidTotalCents: number };
    try {
      payment = await options.pay({ totalCents: locked.lock.total_cents, checkoutRef: provisional, cart: locked });
    } catch (error) {
      // No payment: give the cart back to the shop.
      await this.unlock({ lockToken }).done.catch(noop);
      throw error;
    }
    return this.completePaid({ lockToken, paymentId: payment.paymentId, paidTotalCents: payment.paidTotalCents });
  }

  /**
   * Completes a checkout whose payment went through, also after a restart or
   * an expired lock: records the payment's id on the lock when the lock still
   * holds, then completes with the token.
   */
  async completePaid(options: { lockToken: string; paymentId: string; paidTotalCents: number }): Promise<Cart> {
    const { lockToken, paymentId, paidTotalCents } = options;
    await this.updateLock({ lockToken, checkoutRef: paymentId }).done.catch((error) => {
      // An expired or released lock refuses the swap; the checkout below may still complete with its token.
      if (!(error instanceof OnecartError) || error.retryable) throw error;
    });
    try {
      return await this.complete({ lockToken, checkoutRef: paymentId, paidTotalCents }).done;
    } catch (error) {
      if (
        error instanceof OnecartError && (error.code === "cart_changed" || error.code === "lock_mismatch" ||
          error.code === "total_mismatch" || error.code === "cart_closed")
      ) {
        throw new OnecartError(error.code, error.message, {
          status: error.status,
          details: { ...(error.details as object ?? {}), payment: { paymentId, paidTotalCents } },
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Follows the cart live over Realtime until the returned function is called. */
  live(): () => void {
    return this.#live.follow();
  }

  /** @internal */
  get isLive(): boolean {
    return this.#live.isFollowed;
  }

  /** @internal Leaves the channel whoever still follows it: the client is going away. */
  shutdown(): Promise<unknown> {
    return this.#live.shutdown();
  }

  /** @internal Leaves the channel until resumeLive(): the user signed out. */
  suspendLive(): Promise<unknown> {
    return this.#live.suspend();
  }

  /** @internal */
  resumeLive(): void {
    this.#live.resume();
  }

  #lineRef(line: LineRef | string): LineRef {
    const ref: LineRef = typeof line === "string" ? { itemId: line } : line;
    if ("itemId" in ref && ref.itemId.startsWith("pending:")) {
      // A line still pending has no server id yet: name it by product and options, resolved when it runs.
      const item = this.getState().cart?.items.find((i) => i.id === ref.itemId);
      if (item) return { productId: item.product_id, options: item.options };
    }
    return ref;
  }
}
