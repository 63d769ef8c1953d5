// What the app knows after sign-in: the caller's stores (get_staff_home).
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
