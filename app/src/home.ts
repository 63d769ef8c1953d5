// What the app knows after sign-in: the caller's stores (get_staff_home). Kept
// on the device, so a till started without network still knows its store, and
// read again, with retries, until the server answers.
import { useEffect, useState } from "react";
import type { SupabaseClient } from "@supabase/supabase-js";

export type StaffRole = "owner" | "manager" | "staff";
export interface Named {
  id: string;
  name: string;
}
export interface Product extends Named {
  price_cents: number;
}
export interface StoreHome extends Named {
  role: StaffRole;
  locations: Named[];
  products: Product[];
  customers: Named[];
}

export async function loadHome(supabase: SupabaseClient): Promise<StoreHome[]> {
  const { data, error } = await supabase.rpc("get_staff_home");
  if (error) throw new Error(error.message);
  return data as StoreHome[];
}

const keptKey = (userId: string) => `onecart.home.${userId}`;

export interface HomeState {
  stores: StoreHome[] | null;
  /** The server answered in this run: what is shown is current, and the network reaches onecart. */
  fresh: boolean;
  /** Set while there is nothing to show and the last try failed; tries go on meanwhile. */
  failing: boolean;
}

/**
 * The staff member's stores: the kept copy at once, then the server's, tried
 * again with growing pauses (and at once when the browser says the network is
 * back) until it answers, and every few minutes after that for new products.
 */
export function useHome(supabase: SupabaseClient, userId: string): HomeState & { reload: () => void } {
  const [state, setState] = useState<HomeState>(() => {
    const kept = localStorage.getItem(keptKey(userId));
    return { stores: kept ? JSON.parse(kept) as StoreHome[] : null, fresh: false, failing: false };
  });
  const [round, setRound] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = 1_000;
    const attempt = async () => {
      clearTimeout(timer);
      try {
        const stores = await loadHome(supabase);
        if (stopped) return;
        localStorage.setItem(keptKey(userId), JSON.stringify(stores));
        setState({ stores, fresh: true, failing: false });
        delay = 1_000;
        timer = setTimeout(attempt, 5 * 60_000);
      } catch {
        if (stopped) return;
        setState((s) => ({ ...s, failing: s.stores === null }));
        timer = setTimeout(attempt, delay);
        delay = Math.min(delay * 2, 30_000);
      }
    };
    const onOnline = () => {
      delay = 1_000;
      void attempt();
    };
    void attempt();
    addEventListener("online", onOnline);
    return () => {
      stopped = true;
      clearTimeout(timer);
      removeEventListener("online", onOnline);
    };
  }, [supabase, userId, round]);

  return { ...state, reload: () => setRound((n) => n + 1) };
}

/** One id per browser profile: the device a cart without a customer belongs to. */
export function deviceId(): string {
  const key = "onecart.device_id";
  let id = localStorage.getItem(key);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(key, id);
  }
  return id;
}
