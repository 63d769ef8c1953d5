// React bindings: a provider for the one client of the app, and hooks that
// follow a cart or a queue live while a component shows it. The core never
// imports React; only this entry point (`@onecart/client/react`) does.
import { createContext, createElement, type ReactNode, useContext, useEffect, useSyncExternalStore } from "react";
import type { CartStore } from "./cart-store.ts";
import type { Onecart } from "./client.ts";
import type { QueueStore } from "./queue-store.ts";
import type { CartState, QueueState } from "./state.ts";

const OnecartContext = createContext<Onecart | null>(null);

export function OnecartProvider(props: { client: Onecart; children?: ReactNode }) {
  return createElement(OnecartContext.Provider, { value: props.client }, props.children);
}

export function useOnecart(): Onecart {
  const client = useContext(OnecartContext);
  if (!client) throw new Error("useOnecart: wrap the app in <OnecartProvider client={…}>.");
  return client;
}

const EMPTY_CART: CartState = { cart: null, confirmed: null, pending: [], rejected: [], live: "off" };
const EMPTY_QUEUE: QueueState = { queue: null, pending: [], rejected: [], live: "off" };
const noSubscription = () => () => {};

/**
 * A cart's state (what to show, what is pending, what was refused), followed
 * live while the component is mounted, with the store for taps:
 * `const [state, cart] = useCart(cartId); cart?.addItem(productId)`.
 */
export function useCart(
  cartId: string | null | undefined,
  options: { live?: boolean } = {},
): [CartState, CartStore | null] {
  const client = useOnecart();
  const store = cartId ? client.cart(cartId) : null;
  const live = options.live ?? true;
  useEffect(() => (store && live ? store.live() : undefined), [store, live]);
  const state = useSyncExternalStore(
    store?.subscribe ?? noSubscription,
    store?.getState ?? (() => EMPTY_CART),
    store?.getState ?? (() => EMPTY_CART),
  );
  return [state, store];
}

/** A location's queue, followed live while the component is mounted. */
export function useQueue(
  locationId: string | null | undefined,
  options: { live?: boolean } = {},
): [QueueState, QueueStore | null] {
  const client = useOnecart();
  const store = locationId ? client.queue(locationId) : null;
  const live = options.live ?? true;
  useEffect(() => (store && live ? store.live() : undefined), [store, live]);
  const state = useSyncExternalStore(
    store?.subscribe ?? noSubscription,
    store?.getState ?? (() => EMPTY_QUEUE),
    store?.getState ?? (() => EMPTY_QUEUE),
  );
  return [state, store];
}

/** Every pending action of this device (for an "n waiting to send" badge), re-read when any changes. */
export function usePendingCount(): number {
  const client = useOnecart();
  return useSyncExternalStore(client.subscribePending, client.pendingCount, client.pendingCount);
}

/** Whether the device reaches onecart; taps made while it does not are kept and sent when it does. */
export function useOnline(): boolean {
  const client = useOnecart();
  return useSyncExternalStore(client.subscribeOnline, client.isOnline, client.isOnline);
}
