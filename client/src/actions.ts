// A device's actions: what it asked for, kept as plain data so they survive
// storage, and how each looks applied to a cart before the server agrees.
import type { Cart, CartItem, Json } from "./types.ts";

export type ItemOptions = Record<string, Json | undefined>;

/** Which line an action on an item means: its id, or (for a line still pending) its product and options. */
export type LineRef = { itemId: string } | { productId: string; options?: ItemOptions };

interface Base {
  /** The idempotency key: made with the action, sent with every try of it. */
  key: string;
  /** When the person tapped (ms since epoch). */
  createdAt: number;
  /** Set when the app chose to send the action past `maxActionAgeMs`. */
  sendExpired?: true;
}

export interface AddItemAction extends Base {
  kind: "add_item";
  cartId: string;
  productId: string;
  quantity: number;
  options: ItemOptions;
  /** For the optimistic line only: the server's product row sets the real name and price. */
  display?: { name?: string; unitPriceCents?: number };
}
export interface SetQuantityAction extends Base {
  kind: "set_item_quantity";
  cartId: string;
  line: LineRef;
  quantity: number;
}
export interface RemoveItemAction extends Base {
  kind: "remove_item";
  cartId: string;
  line: LineRef;
}
export interface LockAction extends Base {
  kind: "lock_cart";
  cartId: string;
  checkoutRef?: string;
  ttlSeconds?: number;
}
export interface UpdateLockAction extends Base {
  kind: "update_cart_lock";
  cartId: string;
  lockToken: string;
  checkoutRef: string;
}
export interface UnlockAction extends Base {
  kind: "unlock_cart";
  cartId: string;
  lockToken: string;
}
export interface CompleteAction extends Base {
  kind: "complete_checkout";
  cartId: string;
  lockToken: string;
  checkoutRef: string;
  paidTotalCents: number;
}
export interface JoinQueueAction extends Base {
  kind: "add_to_queue";
  locationId: string;
  customerId: string;
}
export interface CallNextAction extends Base {
  kind: "call_next";
  locationId: string;
}
export interface CompleteEntryAction extends Base {
  kind: "complete_queue_entry";
  locationId: string;
  entryId: string;
}
export interface LeaveQueueAction extends Base {
  kind: "leave_queue";
  locationId: string;
  entryId: string;
}

export type CartAction =
  | AddItemAction
  | SetQuantityAction
  | RemoveItemAction
  | LockAction
  | UpdateLockAction
  | UnlockAction
  | CompleteAction;
export type QueueAction = JoinQueueAction | CallNextAction | CompleteEntryAction | LeaveQueueAction;
export type Action = CartAction | QueueAction;
export type ActionKind = Action["kind"];

export function isCartAction(action: Action): action is CartAction {
  return "cartId" in action;
}

/** The queue that orders an action: one per cart, one per queue location. */
export function scopeOf(action: Action): string {
  return isCartAction(action) ? `cart:${action.cartId}` : `queue:${action.locationId}`;
}

/** JSON with sorted keys: the same options written in another order are the same line, as on the server. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${
      Object.keys(value).filter((k) => (value as any)[k] !== undefined).sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((value as any)[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(value);
}

export function findLine(cart: Cart, line: LineRef): CartItem | undefined {
  if ("itemId" in line) return cart.items.find((item) => item.id === line.itemId);
  const options = canonical(line.options ?? {});
  return cart.items.find((item) => item.product_id === line.productId && canonical(item.options ?? {}) === options);
}

function totals(cart: Cart, items: CartItem[]): Cart {
  return {
    ...cart,
    items,
    item_count: items.reduce((n, item) => n + item.quantity, 0),
    subtotal_cents: items.reduce((n, item) => n + item.quantity * item.unit_price_cents, 0),
  };
}

function withQuantity(item: CartItem, quantity: number): CartItem {
  return { ...item, quantity, line_total_cents: quantity * item.unit_price_cents };
}

/**
 * The cart as it will look once `action` applies, as far as the device can
 * tell. Only the server's answer is the truth: this is what the screen shows
 * meanwhile, and it is thrown away with every confirmed snapshot.
 */
export function applyOptimistic(cart: Cart, action: CartAction): Cart {
  switch (action.kind) {
    case "add_item": {
      const existing = findLine(cart, { productId: action.productId, options: action.options });
      if (existing) {
        return totals(
          cart,
          cart.items.map((item) => item === existing ? withQuantity(item, item.quantity + action.quantity) : item),
        );
      }
      const unit = action.display?.unitPriceCents ?? 0;
      return totals(cart, [...cart.items, {
        id: `pending:${action.key}`,
        product_id: action.productId,
        name: action.display?.name ?? "",
        quantity: action.quantity,
        unit_price_cents: unit,
        line_total_cents: unit * action.quantity,
        options: action.options,
      }]);
    }
    case "set_item_quantity": {
      const line = findLine(cart, action.line);
      if (!line) return cart;
      return totals(
        cart,
        action.quantity === 0
          ? cart.items.filter((item) => item !== line)
          : cart.items.map((item) => (item === line ? withQuantity(item, action.quantity) : item)),
      );
    }
    case "remove_item": {
      const line = findLine(cart, action.line);
      return line ? totals(cart, cart.items.filter((item) => item !== line)) : cart;
    }
    case "lock_cart":
      return {
        ...cart,
        status: "locked",
        lock: {
          expires_at: null,
          checkout_ref: action.checkoutRef ?? null,
          locked_version: cart.version,
          total_cents: cart.subtotal_cents,
        },
      };
    case "update_cart_lock":
      return cart.lock ? { ...cart, lock: { ...cart.lock, checkout_ref: action.checkoutRef } } : cart;
    case "unlock_cart":
      return { ...cart, status: "active", lock: null };
    case "complete_checkout":
      return { ...cart, status: "checked_out" };
  }
}

/**
 * The arguments an action sends, by the contract's names. `itemId` is the
 * server's id of the line a quantity change or removal means, resolved by the
 * caller from the confirmed cart.
 */
export function argsOf(action: Action, itemId?: string): Record<string, unknown> {
  switch (action.kind) {
    case "add_item":
      return {
        cart_id: action.cartId,
        product_id: action.productId,
        quantity: action.quantity,
        options: action.options,
      };
    case "set_item_quantity":
      return { cart_id: action.cartId, item_id: itemId, quantity: action.quantity };
    case "remove_item":
      return { cart_id: action.cartId, item_id: itemId };
    case "lock_cart":
      return { cart_id: action.cartId, checkout_ref: action.checkoutRef, ttl_seconds: action.ttlSeconds };
    case "update_cart_lock":
      return { cart_id: action.cartId, lock_token: action.lockToken, checkout_ref: action.checkoutRef };
    case "unlock_cart":
      return { cart_id: action.cartId, lock_token: action.lockToken };
    case "complete_checkout":
      return {
        cart_id: action.cartId,
        lock_token: action.lockToken,
        checkout_ref: action.checkoutRef,
        paid_total_cents: action.paidTotalCents,
      };
    case "add_to_queue":
      return { location_id: action.locationId, customer_id: action.customerId };
    case "call_next":
      return { location_id: action.locationId };
    case "complete_queue_entry":
    case "leave_queue":
      return { entry_id: action.entryId };
  }
}
