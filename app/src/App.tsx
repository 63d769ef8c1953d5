// The POS app: sign in, pick a location, then the queue board and the
// location's open carts beside the cart (an iPad or Mac at the till shows
// both; a narrow window one under the other).
import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { Session, SupabaseClient } from "@supabase/supabase-js";
import { createOnecart, indexedDbStorage } from "@onecart/client";
import { OnecartProvider, useOnecart, usePendingCount } from "@onecart/client/react";
import { SignIn } from "./SignIn.tsx";
import { deviceId, useHome } from "./home.ts";
import { QueueBoard } from "./QueueBoard.tsx";
import { OpenCarts } from "./OpenCarts.tsx";
import { CartView, checkoutKey } from "./CartView.tsx";
import { StoreHealth } from "./StoreHealth.tsx";
import { useKept } from "./kept.ts";
import { useNetwork } from "./network.ts";
import { useDurableStorage } from "./durable.ts";
import { applyUpdate, updateReady } from "./update.ts";
import { codeOf, explain } from "./messages.ts";

export function App({ supabase }: { supabase: SupabaseClient }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    supabase.auth.getSession().then(({ data }) => setSession(data.session));
    const { data } = supabase.auth.onAuthStateChange((_event, next) => setSession(next));
    return () => data.subscription.unsubscribe();
  }, [supabase]);

  if (session === undefined) return <p className="muted" role="status">Loading…</p>;
  if (!session) return <SignIn supabase={supabase} />;
  return <Pos supabase={supabase} session={session} key={session.user.id} />;
}

type Tab = "till" | "health";

function Pos({ supabase, session }: { supabase: SupabaseClient; session: Session }) {
  // One library instance per signed-in user: its pending actions are kept in
  // IndexedDB under the user's id and replayed after a reload.
  const onecart = useMemo(
    () => createOnecart({ supabase, storage: indexedDbStorage("onecart-pos"), storageKey: `pos:${session.user.id}` }),
    [supabase, session.user.id],
  );
  return (
    <OnecartProvider client={onecart}>
      <Screens supabase={supabase} session={session} />
    </OnecartProvider>
  );
}

const NETWORK_WORDS = {
  online: "Online",
  connecting: "Connecting…",
  offline: "Offline: taps are kept",
} as const;

function Screens({ supabase, session }: { supabase: SupabaseClient; session: Session }) {
  const onecart = useOnecart();
  const home = useHome(supabase, session.user.id);
  const network = useNetwork(home.fresh);
  const durability = useDurableStorage();
  const pending = usePendingCount();
  const stores = home.stores;
  const [locationId, setLocationId] = useKept("onecart.location");
  const [tab, setTab] = useState<Tab>("till");
  const [notice, setNotice] = useState<string | null>(null);

  const store = stores?.find((s) => s.locations.some((l) => l.id === locationId)) ?? stores?.[0] ?? null;
  const location = store?.locations.find((l) => l.id === locationId) ?? store?.locations[0] ?? null;
  const canRunStore = store?.role === "owner" || store?.role === "manager";
  // The cart open at this location on this device, shared by its windows and kept across a reload.
  const [cartId, setCartId] = useKept(`onecart.cart.${location?.id ?? "none"}`);

  async function openCart(customerId: string | null) {
    if (!location) return;
    setNotice(null);
    try {
      const cart = await onecart.openCart({
        locationId: location.id,
        customerId,
        deviceId: customerId ? null : deviceId(),
      });
      setCartId(cart.id);
      setTab("till");
    } catch (error) {
      setNotice(`The cart could not be opened: ${explain(codeOf(error))}`);
    }
  }

  return (
    <>
      <header className="bar">
        <h1>{store ? store.name : "onecart"}</h1>
        {store && (
          <label className="row">
            <span className="visually-hidden">Location</span>
            <select value={location?.id ?? ""} onChange={(e) => setLocationId(e.target.value)} aria-label="Location">
              {stores!.flatMap((s) =>
                s.locations.map((l) => (
                  <option key={l.id} value={l.id}>{stores!.length > 1 ? `${s.name}: ${l.name}` : l.name}</option>
                ))
              )}
            </select>
          </label>
        )}
        <span className={`network ${network}`} role="status" aria-live="polite" data-testid="network">
          {NETWORK_WORDS[network]}
        </span>
        <UpdateButton cartId={cartId} />
        <span>{session.user.email}</span>
        <button type="button" onClick={() => supabase.auth.signOut()}>Sign out</button>
      </header>
      {canRunStore && (
        <nav className="tabs" aria-label="Screens">
          <button type="button" aria-current={tab === "till" ? "page" : undefined} onClick={() => setTab("till")}>
            Till
          </button>
          <button type="button" aria-current={tab === "health" ? "page" : undefined} onClick={() => setTab("health")}>
            Store health
          </button>
        </nav>
      )}
      {home.failing && (
        <p className="message warn" role="status">
          The till needs the network once to load your store, and keeps trying until it answers.
        </p>
      )}
      {notice && <p className="message error" role="alert">{notice}</p>}
      {stores && stores.length === 0 && (
        <p className="message warn" role="alert">This account is not staff of any store yet.</p>
      )}
      {store && location && tab === "till" && (
        <main className="workspace split">
          <div className="column">
            <QueueBoard
              key={location.id}
              locationId={location.id}
              customers={store.customers}
              onOpenCart={(customerId) => void openCart(customerId)}
            />
            <OpenCarts
              key={`carts-${location.id}`}
              locationId={location.id}
              home={store}
              currentCartId={cartId}
              online={network === "online"}
              onPick={(id) => setCartId(id)}
            />
          </div>
          {cartId
            ? (
              <CartView
                key={cartId}
                cartId={cartId}
                home={store}
                online={network !== "offline"}
                onClose={() => setCartId(null)}
              />
            )
            : (
              <section className="panel" aria-labelledby="no-cart">
                <h2 id="no-cart">No cart open</h2>
                <p className="muted">
                  Open a customer's cart from the queue, pick up an open cart, or start a walk-in sale.
                </p>
                <div className="row">
                  <button type="button" className="primary" onClick={() => void openCart(null)}>
                    New walk-in sale
                  </button>
                  <label className="row">
                    <span className="visually-hidden">Customer</span>
                    <select
                      aria-label="Open the cart of"
                      value=""
                      onChange={(e) => e.target.value && void openCart(e.target.value)}
                    >
                      <option value="">Open a customer's cart…</option>
                      {store.customers.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
                    </select>
                  </label>
                </div>
              </section>
            )}
        </main>
      )}
      {store && tab === "health" && canRunStore && (
        <main className="workspace">
          <StoreHealth supabase={supabase} store={store} />
        </main>
      )}
      {/* A browser tab is refused lasting storage as a rule; it matters only while taps wait to be sent. */}
      {durability === "refused" && pending > 0 && (
        <footer className="footnote" role="note">
          Tip: install the till (Install in the browser's menu, or Add to Home Screen) so the browser keeps taps not yet
          sent even when it runs short of space.
        </footer>
      )}
    </>
  );
}

/**
 * "Update ready": taken when the cashier says so, once this device has no
 * pending taps and no checkout in progress on the cart on screen (a reload
 * between the card and the server would leave the payment unrecorded here).
 */
function UpdateButton({ cartId }: { cartId: string | null }) {
  const onecart = useOnecart();
  const ready = useSyncExternalStore(updateReady.subscribe, updateReady.get);
  const pending = usePendingCount();
  const [checkout] = useKept(cartId ? checkoutKey(cartId) : "onecart.checkout.none");
  const paying = cartId !== null && checkout !== null;
  const [asked, setAsked] = useState(false);
  useEffect(() => {
    if (asked && ready && pending === 0 && !paying) void applyUpdate(() => onecart.flush());
  }, [asked, ready, pending, paying, onecart]);
  if (!ready) return null;
  return (
    <button type="button" className="update" disabled={asked} onClick={() => setAsked(true)}>
      {!asked
        ? "Update ready"
        : pending > 0
        ? `Update waits for ${pending} pending ${pending === 1 ? "tap" : "taps"}`
        : paying
        ? "Update waits for the checkout"
        : "Updating…"}
    </button>
  );
}
