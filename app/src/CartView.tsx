import { useState } from "react";
import { useCart, useOnecart } from "@onecart/client/react";
import type { StoreHome } from "./home.ts";
import { codeOf, explain, rejectionText } from "./messages.ts";
import { cents, STATUS_WORDS } from "./format.ts";
import { useKept } from "./kept.ts";

/** A checkout this device started: its lock token survives a reload, for the expired-lock recovery. */
interface Checkout {
  lockToken: string;
  totalCents: number;
  paymentId?: string;
}
export const checkoutKey = (cartId: string) => `onecart.checkout.${cartId}`;
/** The payment of a cart paid on this device, for its receipt. */
const paidKey = (cartId: string) => `onecart.paid.${cartId}`;

/** Stands in for a card terminal: approves after a short wait and names the payment. */
async function simulatedCardPayment(totalCents: number): Promise<{ paymentId: string; paidTotalCents: number }> {
  await new Promise((resolve) => setTimeout(resolve, 400));
  return { paymentId: `pay_sim_${crypto.randomUUID().slice(0, 8)}`, paidTotalCents: totalCents };
}

export function CartView({ cartId, home, online, onClose }: {
  cartId: string;
  home: StoreHome;
  online: boolean;
  onClose: () => void;
}) {
  const onecart = useOnecart();
  const [state, followed] = useCart(cartId);
  const store = followed!; // a cart id is given, so there is a store
  // Kept per cart and shared by this till's windows: every window of it knows the checkout is its own.
  const [checkoutText, setCheckoutText] = useKept(checkoutKey(cartId));
  const checkout = checkoutText ? JSON.parse(checkoutText) as Checkout : null;
  const [working, setWorking] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const cart = state.cart;

  function remember(next: Checkout | null) {
    setCheckoutText(next ? JSON.stringify(next) : null);
  }

  async function startCheckout() {
    setWorking(true);
    setNotice(null);
    try {
      const locked = await store.lock({ checkoutRef: `till-${crypto.randomUUID().slice(0, 8)}`, ttlSeconds: 300 }).done;
      remember({ lockToken: locked.lock.token, totalCents: locked.lock.total_cents });
    } catch (error) {
      setNotice(explain(codeOf(error)));
    } finally {
      setWorking(false);
    }
  }

  async function pay() {
    if (!checkout) return;
    setWorking(true);
    setNotice(null);
    try {
      const payment = checkout.paymentId
        ? { paymentId: checkout.paymentId, paidTotalCents: checkout.totalCents }
        : await simulatedCardPayment(checkout.totalCents);
      remember({ ...checkout, paymentId: payment.paymentId });
      // Also the recovery path: if the lock expired meanwhile, the same token still completes while no item changed.
      await store.completePaid({ lockToken: checkout.lockToken, ...payment });
      localStorage.setItem(paidKey(cartId), payment.paymentId);
      remember(null);
    } catch (error) {
      const code = codeOf(error);
      if (code === "cart_changed" || code === "lock_mismatch" || code === "cart_closed") remember(null);
      setNotice(explain(code));
    } finally {
      setWorking(false);
    }
  }

  async function cancelCheckout() {
    if (!checkout) return;
    setWorking(true);
    try {
      await store.unlock({ lockToken: checkout.lockToken }).done;
    } catch {
      // Already released (expired or completed): nothing to give back.
    } finally {
      remember(null);
      setWorking(false);
    }
  }

  if (!cart) {
    return (
      <section className="panel" aria-busy="true">
        <p role="status">{online ? "Opening the cart…" : "This cart opens when the network is back."}</p>
        <button type="button" onClick={onClose}>Close</button>
      </section>
    );
  }

  const customer = cart.customer_id
    ? home.customers.find((c) => c.id === cart.customer_id)?.name ?? "Customer"
    : "Walk-in";
  // This till runs the checkout from the moment it asks for the lock until it is paid or cancelled.
  const lockedHere = (checkout !== null || working) && cart.status !== "checked_out";
  const lockedElsewhere = cart.status === "locked" && !lockedHere;
  const editable = cart.status === "active" && !lockedHere;
  const pendingKeys = new Set(state.pending.map((p) => p.action.kind === "add_item" ? p.action.productId : ""));

  if (cart.status === "checked_out") {
    const paymentId = localStorage.getItem(paidKey(cartId));
    return (
      <section className="panel cart receipt" aria-labelledby="cart-title" data-version={cart.version}>
        <div className="row">
          <h2 id="cart-title" className="grow">Paid: {customer}</h2>
          <span className="badge paid" data-testid="cart-status">{STATUS_WORDS[cart.status]}</span>
        </div>
        <p className="message info" role="status">
          Paid {cents(cart.subtotal_cents)}
          {paymentId ? ` by card (${paymentId})` : " on another till"}.
        </p>
        <table className="lines">
          <caption className="visually-hidden">Receipt</caption>
          <tbody>
            {cart.items.map((item) => (
              <tr key={item.id}>
                <td>{item.quantity} × {item.name}</td>
                <td className="num">{cents(item.line_total_cents)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="totals">
          <span>{cart.item_count} {cart.item_count === 1 ? "item" : "items"}</span>
          <span data-testid="cart-total">{cents(cart.subtotal_cents)}</span>
        </p>
        <button type="button" className="primary" onClick={onClose}>
          {cart.customer_id ? "Next customer" : "New sale"}
        </button>
      </section>
    );
  }

  return (
    <section className="panel cart" aria-labelledby="cart-title" data-version={cart.version}>
      <div className="row">
        <h2 id="cart-title" className="grow">Cart: {customer}</h2>
        <span className={`badge ${cart.status === "locked" ? "locked" : ""}`} data-testid="cart-status">
          {STATUS_WORDS[cart.status]}
        </span>
        {state.pending.length > 0 && (
          <span className="badge pending" data-testid="pending-count">
            {state.pending.length} {state.pending.length === 1 ? "tap" : "taps"} to send
          </span>
        )}
        <button type="button" onClick={onClose}>Close</button>
      </div>

      {lockedHere && (
        <p className="message info" role="status">
          Checkout in progress on this till. The cart cannot change until it is paid or the checkout is cancelled.
        </p>
      )}
      {lockedElsewhere && (
        <p className="message warn" role="status">
          Being paid on another till ({cents(cart.lock?.total_cents ?? 0)}). Editing is off until it is paid or
          cancelled there.
        </p>
      )}
      {(cart.status === "abandoned" || cart.status === "merged") && (
        <p className="message info" role="status">This cart was {STATUS_WORDS[cart.status].toLowerCase()}.</p>
      )}
      {state.rejected.map((r) => (
        <p key={r.key} className="message error" role="alert">
          {rejectionText(r)} {r.error.code === "expired"
            ? (
              <>
                <button type="button" onClick={() => onecart.resend(r.key)}>Send anyway</button>{" "}
                <button type="button" onClick={() => void onecart.discard(r.key)}>Drop it</button>
              </>
            )
            : <button type="button" onClick={() => store.dismiss(r.key)}>Dismiss</button>}
        </p>
      ))}
      {notice && <p className="message error" role="alert">{notice}</p>}

      {(cart.status === "active" || cart.status === "locked") && (
        <div className="products" role="group" aria-label="Products">
          {home.products.map((p) => (
            <button
              type="button"
              key={p.id}
              disabled={!editable}
              aria-label={`Add ${p.name}, ${cents(p.price_cents)}`}
              onClick={() => store.addItem(p.id, { display: { name: p.name, unitPriceCents: p.price_cents } })}
            >
              <strong>{p.name}</strong>
              <span className="muted">{cents(p.price_cents)}</span>
            </button>
          ))}
        </div>
      )}

      {cart.items.length === 0 ? <p className="muted">The cart is empty.</p> : (
        <table className="lines">
          <caption className="visually-hidden">Lines of the cart</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Quantity</th>
              <th scope="col" className="num">Total</th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {cart.items.map((item) => (
              <tr
                key={item.id}
                className={item.id.startsWith("pending:") || pendingKeys.has(item.product_id) ? "pending" : ""}
              >
                <td>{item.name}</td>
                <td>
                  <span className="stepper">
                    <button
                      type="button"
                      aria-label={`One less ${item.name}`}
                      disabled={!editable}
                      onClick={() => store.setQuantity(item.id, item.quantity - 1)}
                    >
                      −
                    </button>
                    <output aria-label={`Quantity of ${item.name}`} data-testid={`qty-${item.product_id}`}>
                      {item.quantity}
                    </output>
                    <button
                      type="button"
                      aria-label={`One more ${item.name}`}
                      disabled={!editable}
                      onClick={() => store.setQuantity(item.id, item.quantity + 1)}
                    >
                      +
                    </button>
                  </span>
                </td>
                <td className="num">{cents(item.line_total_cents)}</td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    disabled={!editable}
                    aria-label={`Remove ${item.name}`}
                    onClick={() => store.removeItem(item.id)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="totals">
        <span>{cart.item_count} {cart.item_count === 1 ? "item" : "items"}</span>
        <span data-testid="cart-total">{cents(cart.subtotal_cents)}</span>
      </p>

      {(cart.status === "active" || lockedHere) && (
        <div className="row">
          {!checkout && (
            <>
              <button
                type="button"
                className="primary"
                disabled={working || !online || cart.items.length === 0 || state.pending.length > 0}
                onClick={() => void startCheckout()}
              >
                Checkout
              </button>
              {!online && <span className="muted">Checkout needs the network.</span>}
            </>
          )}
          {checkout && (
            <>
              <button type="button" className="primary" disabled={working} onClick={() => void pay()}>
                {checkout.paymentId ? "Finish paid checkout" : `Take card payment ${cents(checkout.totalCents)}`}
              </button>
              <button type="button" disabled={working} onClick={() => void cancelCheckout()}>Cancel checkout</button>
            </>
          )}
        </div>
      )}
    </section>
  );
}
