import type { CartStatus } from "@onecart/client";

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function cents(value: number): string {
  return money.format(value / 100);
}

/** How long since, in a till's words: "just now", "1 min", "12 min". */
export function since(iso: string | null, now = Date.now()): string {
  if (!iso) return "";
  const minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60000));
  return minutes < 1 ? "just now" : minutes === 1 ? "1 min" : `${minutes} min`;
}

/** The same as a time ago: "just now", "1 min ago". */
export function ago(iso: string | null, now = Date.now()): string {
  const text = since(iso, now);
  return text === "just now" || text === "" ? text : `${text} ago`;
}

/** A cart's status as staff say it. */
export const STATUS_WORDS: Record<CartStatus, string> = {
  active: "Open",
  locked: "Being paid",
  checked_out: "Paid",
  abandoned: "Abandoned",
  merged: "Merged into another cart",
};
