// The contract's shapes. Arguments are derived from the generated database
// types (the RPCs' own signatures); results are jsonb there, so their shapes
// are written out here from the contract.
import type { Database, Json } from "./database.types.ts";

export type { Database, Json };

type Functions = Database["public"]["Functions"];
export type RpcName = keyof Functions;

/**
 * An RPC's arguments without the `p_` prefix and without the idempotency key
 * (the library owns the key): `add_item` takes `{ cart_id, product_id, quantity?, options?, expected_version? }`.
 */
export type ArgsOf<N extends RpcName> = {
  [
    K in keyof Functions[N]["Args"] as K extends `p_idempotency_key` ? never
      : K extends `p_${infer R}` ? R
      : never
  ]: Functions[N]["Args"][K];
};

export type CartStatus = "active" | "locked" | "checked_out" | "abandoned" | "merged";
export type QueueEntryStatus = "waiting" | "serving" | "done" | "left";

export interface CartItem {
  id: string;
  product_id: string;
  name: string;
  quantity: number;
  unit_price_cents: number;
  line_total_cents: number;
  options: Record<string, Json | undefined>;
}

export interface CartLock {
  expires_at: string | null;
  checkout_ref: string | null;
  locked_version: number;
  total_cents: number;
  /** Only in the response to the caller of `lock_cart`. */
  token?: string;
}

export interface Cart {
  id: string;
  store_id: string;
  location_id: string;
  customer_id: string | null;
  device_id: string | null;
  status: CartStatus;
  version: number;
  items: CartItem[];
  item_count: number;
  subtotal_cents: number;
  lock: CartLock | null;
  merged_into: string | null;
  created_at: string;
  updated_at: string;
}

/** A cart as `lock_cart` answers its caller: the lock carries its token. */
export type LockedCart = Cart & { lock: CartLock & { token: string } };

export interface CartHistoryEvent {
  version: number;
  kind: string;
  actor_id: string | null;
  at: string;
  data: Json;
}

export interface QueueEntry {
  id: string;
  location_id: string;
  customer_id: string;
  cart_id: string;
  ticket_number: number;
  status: QueueEntryStatus;
  /** 1-based among waiting entries, null otherwise. */
  position: number | null;
  joined_at: string;
  called_at: string | null;
}

export interface QueueSnapshot {
  location_id: string;
  entries: QueueEntry[];
}

export interface QueueJoin {
  entry: QueueEntry;
  cart: Cart;
}
