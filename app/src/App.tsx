// The POS app: sign in, pick a location, then the queue board beside the cart
// (an iPad or Mac at the till shows both; a narrow window one at a time).
import { useEffect, useMemo, useState } from "react";
import type { Session, SupabaseClient } from "@supabase/supabase-js";
import { createOnecart, indexedDbStorage } from "@onecart/client";
import { OnecartProvider, useOnecart, useOnline } from "@onecart/client/react";
import { SignIn } from "./SignIn.tsx";
import { deviceId, loadHome, type StoreHome } from "./home.ts";
import { QueueBoard } from "./QueueBoard.tsx";
import { CartView } from "./CartView.tsx";
import { StoreHealth } from "./StoreHealth.tsx";

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

function Screens({ supabase, session }: { supabase: SupabaseClient; session: Session }) {
  const onecart = useOnecart();
  const online = useOnline();
  const [stores, setStores] = useState<StoreHome[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [locationId, setLocationId] = useState<string | null>(() => localStorage.getItem("onecart.location"));
  const [cartId, setCartId] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>("till");

  useEffect(() => {
    loadHome(supabase).then(setStores, (error) => setLoadError(String(error.message ?? error)));
  }, [supabase]);

  const store = stores?.find((s) => s.locations.some((l) => l.id === locationId)) ?? stores?.[0] ?? null;
  const location = store?.locations.find((l) => l.id === locationId) ?? store?.locations[0] ?? null;
  const canRunStore = store?.role === "owner" || store?.role === "manager";

  function chooseLocation(id: string) {
    localStorage.setItem("onecart.location", id);
    setLocationId(id);
    setCartId(null);
  }

  async function openCart(customerId: string | null) {
    if (!location) return;
    const cart = await onecart.openCart({
      locationId: location.id,
      customerId,
      deviceId: customerId ? null : deviceId(),
    });
    setCartId(cart.id);
    setTab("till");
  }

  return (
    <>
      <header className="bar">
        <h1>{store ? store.name : "onecart"}</h1>
        {store && (
          <label className="row">
            <span className="visually-hidden">Location</span>
            <select value={location?.id ?? ""} onChange={(e) => chooseLocation(e.target.value)} aria-label="Location">
              {stores!.flatMap((s) =>
                s.locations.map((l) => (
                  <option key={l.id} value={l.id}>{stores!.length > 1 ? `${s.name}: ${l.name}` : l.name}</option>
                ))
              )}
            </select>
          </label>
        )}
        <span className={`network ${online ? "online" : "offline"}`} role="status" aria-live="polite">
          {online ? "Online" : "Offline: changes are kept and sent when the network returns"}
        </span>
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
      {loadError && <p className="message error" role="alert">Could not load your store: {loadError}</p>}
      {stores && stores.length === 0 && (
        <p className="message warn" role="alert">This account is not staff of any store yet.</p>
      )}
      {store && location && tab === "till" && (
        <main className="workspace split">
          <QueueBoard
            key={location.id}
            locationId={location.id}
            customers={store.customers}
            onOpenCart={(customerId) => void openCart(customerId)}
          />
          {cartId
            ? <CartView key={cartId} cartId={cartId} home={store} onClose={() => setCartId(null)} />
            : (
              <section className="panel" aria-labelledby="no-cart">
                <h2 id="no-cart">No cart open</h2>
                <p className="muted">Open a customer's cart from the queue, or start a walk-in sale.</p>
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
    </>
  );
}
