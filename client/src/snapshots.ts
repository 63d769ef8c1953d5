// What a snapshot from the server must look like before it is applied, and
// where confirmed snapshots live in the query cache.
import type { Cart, QueueSnapshot } from "./types.ts";

/** Only the contract's keys: a hosted `realtime.send` adds an `id` to a payload that has none. */
export function normalizeQueue(payload: unknown): QueueSnapshot | null {
  const p = payload as Partial<QueueSnapshot> | null;
  if (!p || typeof p.location_id !== "string" || !Array.isArray(p.entries)) return null;
  return { location_id: p.location_id, entries: p.entries };
}

export function isCart(value: unknown): value is Cart {
  const c = value as Cart | null;
  return !!c && typeof c.id === "string" && typeof c.version === "number" && Array.isArray(c.items);
}

export const CART_KEY = (id: string) => ["onecart", "cart", id] as const;
export const QUEUE_KEY = (locationId: string) => ["onecart", "queue", locationId] as const;
