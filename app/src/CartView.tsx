import { useState } from "react";
import { useCart } from "@onecart/client/react";
import type { StoreHome } from "./home.ts";
import { codeOf, explain, rejectionText } from "./messages.ts";
import { cents } from "./format.ts";

/** A checkout this device started: its lock token survives a reload, for the expired-lock recovery. */
interface Checkout {
  lockToken: string;
  totalCents: number;
  paymentId?: string;
}
const checkoutKey = (cartId: string) => `onecart.checkout.${cartId}`;
function savedCheckout(cartId: string): Checkout | null {
  const text = localStorage.getItem(checkoutKey(cartId));
  return text ? JSON.parse(text) as Checkout : null;
}
function saveCheckout(cartId: string, checkout: Checkout | null) {
  if (checkout) localStorage.setItem(checkoutKey(cartId), JSON.stringify(checkout));
  else localStorage.removeItem(checkoutKey(cartId));
}

/** Stands in for a card terminal: approves after a short wait and names the payment. */
async function simulatedCardPayment(totalCents: number): Promise<{ paymentId: string; paidTotalCents: number }> {
  await new Promise((resolve) => setTimeout(resolve, 400));
  return { paymentId: `pay_sim_${crypto.randomUUID().slice(0, 8)}`, paidTotalCents: totalCents };
}

export function CartView({ cartId, home, onClose }: { cartId: string; home: StoreHome; onClose: () => void }) {
  const [state, followed] = useCart(cartId);
  const store = followed!; // a cart id is given, so there is a store
  const [checkout, setCheckout] = useState<Checkout | null>(() => savedCheckout(store.id));
  const [working, setWorking] = useState(false);
  const [notice, setNotice] = useState<{ kind: "error" | "info"; text: string } | null>(null);
  const cart = state.cart;

  function remember(next: Checkout | null) {
    saveCheckout(store.id, next);
    setCheckout(next);
  }

  async function startCheckout() {
    setWorking(true);
    setNotice(null);
    try {
      const locked = await store.lock({ checkoutRef: `till-${crypto.randomUUID().slice(0, 8)}`, ttlSeconds: 300 }).done;
      remember({ lockToken: locked.lock.token, totalCents: locked.lock.total_cents });
    } catch (error) {
      setNotice({ kind: "error", text: explain(codeOf(error)) });
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
      remember(null);
      setNotice({ kind: "info", text: `Paid ${cents(payment.paidTotalCents)} (${payment.paymentId}).` });
    } catch (error) {
      const code = codeOf(error);
      if (code === "cart_changed" || code === "lock_mismatch" || code === "cart_closed") remember(null);
      setNotice({ kind: "error", text: explain(code) });
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
        <p role="status">Opening the cart…</p>
      </section>
    );
  }

  const customer = cart.customer_id
    ? home.customers.find((c) => c.id === cart.customer_id)?.name ?? "Customer"
    : "Walk-in";
  const lockedHere = checkout !== null && cart.status === "locked";
  const lockedElsewhere = cart.status === "locked" && !lockedHere;
  const closed = cart.status === "checked_out" || cart.status === "abandoned" || cart.status === "merged";
  const pendingKeys = new Set(state.pending.map((p) => p.action.kind === "add_item" ? p.action.productId : ""));

  return (
    <section className="panel cart" aria-labelledby="cart-title">
      <div className="row">
        <h2 id="cart-title" className="grow">Cart: {customer}</h2>
        <span className={`badge ${cart.status === "locked" ? "locked" : ""}`} data-testid="cart-status">
          {cart.status}
        </span>
        <span className="badge" data-testid="cart-version">v{cart.version}</span>
        {state.pending.length > 0 && (
          <span className="badge pending" data-testid="pending-count">{state.pending.length} pending</span>
        )}
        <button type="button" onClick={onClose}>Close</button>
      </div>

      {lockedElsewhere && (
        <p className="message warn" role="status">
          Locked for checkout on another device ({cents(cart.lock?.total_cents ?? 0)}). Changes are refused until it is
          paid or cancelled.
        </p>
      )}
      {closed && <p className="message info" role="status">This cart is {cart.status.replace("_", " ")}.</p>}
      {state.rejected.map((r) => (
        <p key={r.key} className="message error" role="alert">
          {rejectionText(r)} <button type="button" onClick={() => store.dismiss(r.key)}>Dismiss</button>
        </p>
      ))}
      {notice && (
        <p className={`message ${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"}>{notice.text}</p>
      )}

      {!closed && (
        <div className="products" role="group" aria-label="Products">
          {home.products.map((p) => (
            <button
              type="button"
              key={p.id}
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
                      disabled={closed}
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
                      disabled={closed}
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
                    disabled={closed}
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

      {!closed && (
        <div className="row">
          {!checkout && (
            <button
              type="button"
              className="primary"
              disabled={working || cart.items.length === 0 || lockedElsewhere}
              onClick={() => void startCheckout()}
            >
              Checkout
            </button>
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
