// The location's open carts (list_open_carts), whichever device started them:
// a cart begun on the iPad can be picked up on the Mac. Read every few seconds
// while the network is there; the last list stays while it is not.
import { useEffect, useState } from "react";
import type { Cart } from "@onecart/client";
import { useCart, useOnecart } from "@onecart/client/react";
import type { StoreHome } from "./home.ts";
import { deviceId } from "./home.ts";
import { cents, STATUS_WORDS } from "./format.ts";

export function OpenCarts({ locationId, home, currentCartId, online, onPick }: {
  locationId: string;
  home: StoreHome;
  currentCartId: string | null;
  online: boolean;
  onPick: (cartId: string) => void;
}) {
  const onecart = useOnecart();
  const [carts, setCarts] = useState<Cart[] | null>(null);

  useEffect(() => {
    if (!online) return;
    let stopped = false;
    const read = () =>
      onecart.listOpenCarts(locationId).then((list) => stopped || setCarts(list), () => {
        // Kept as it was; the next round or the network's return reads it again.
      });
    void read();
    const timer = setInterval(read, 5_000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
    // Read again when this device opens or closes a cart, so the list never misses the one on screen.
  }, [onecart, locationId, online, currentCartId]);

  const nameOf = (cart: Cart) =>
    cart.customer_id
      ? home.customers.find((c) => c.id === cart.customer_id)?.name ?? "Customer"
      : cart.device_id === deviceId()
      ? "Walk-in (this till)"
      : "Walk-in";
  const shown = (carts ?? []).filter((c) => c.status === "active" || c.status === "locked");

  return (
    <section className="panel open-carts" aria-labelledby="open-carts-title">
      <h2 id="open-carts-title">Open carts</h2>
      {carts === null
        ? (
          <p className="muted">
            {online ? "Reading the open carts…" : "The open carts show when the network is back."}
          </p>
        )
        : shown.length === 0
        ? <p className="muted">No open carts at this location.</p>
        : (
          <ul aria-label="Open carts at this location">
            {shown.map((cart) => (
              <OpenCartRow
                key={cart.id}
                listed={cart}
                name={nameOf(cart)}
                onScreen={cart.id === currentCartId}
                onPick={() => onPick(cart.id)}
              />
            ))}
          </ul>
        )}
    </section>
  );
}

/** One listed cart, as this device holds it now (the list is read every few seconds; the cart on screen changes faster). */
function OpenCartRow({ listed, name, onScreen, onPick }: {
  listed: Cart;
  name: string;
  onScreen: boolean;
  onPick: () => void;
}) {
  const [state] = useCart(listed.id, { live: false });
  const cart = state.cart && state.cart.version >= listed.version ? state.cart : listed;
  return (
    <li aria-label={`Cart of ${name}`}>
      <span className="grow">
        <strong>{name}</strong>
        <br />
        <span className="muted">
          {STATUS_WORDS[cart.status]} · {cart.item_count} {cart.item_count === 1 ? "item" : "items"} ·{" "}
          {cents(cart.subtotal_cents)}
        </span>
      </span>
      {onScreen
        ? <span className="badge">On screen</span>
        : (
          <button type="button" aria-label={`Pick up the cart of ${name}`} onClick={onPick}>
            Pick up
          </button>
        )}
    </li>
  );
}
