// An owner's or manager's view of their store: today's figures, what needs a
// person now, and the fixes as buttons that ask for a reason (each fix is
// recorded in the cart's history with that reason and who gave it).
import { type FormEvent, useCallback, useEffect, useState } from "react";
import type { SupabaseClient } from "@supabase/supabase-js";
import type { StoreHome } from "./home.ts";
import { cents, since } from "./format.ts";
import { HourChart, hoursOfToday } from "./HourChart.tsx";

interface HourFigures {
  hour: string;
  mutations: number;
  carts_created: number;
  checkouts: number;
  checkout_value_cents: number;
  locks_taken: number;
  locks_expired: number;
  version_conflicts: number;
  locked_refusals: number;
  busy_answers: number;
  idempotent_replays: number;
  merges: number;
  ops_fixes: number;
}
interface Alert {
  kind: string;
  severity: "critical" | "warning";
  since: string;
  location_name: string | null;
  customer_name: string | null;
  cart_id: string | null;
  detail: Record<string, unknown>;
}
type Fix = { rpc: "release_cart_lock" | "abandon_cart" | "repair_cart_totals"; cartId: string; label: string } | {
  rpc: "merge_store_duplicate_carts";
  label: string;
};

const ALERT_TITLES: Record<string, string> = {
  duplicate_open_carts: "Duplicate open carts",
  stuck_lock: "Checkout lock expired but not released",
  totals_mismatch: "Cart totals disagree with its lines",
  long_wait: "Customer waiting over 30 minutes",
  conflict_rise: "Rise in conflicting changes",
  busy_rise: "Rise in busy answers",
};

function fixesFor(alert: Alert): Fix[] {
  const cartId = alert.cart_id;
  switch (alert.kind) {
    case "duplicate_open_carts":
      return [{ rpc: "merge_store_duplicate_carts", label: "Merge duplicates" }];
    case "stuck_lock":
      return cartId ? [{ rpc: "release_cart_lock", cartId, label: "Release lock" }] : [];
    case "totals_mismatch":
      return cartId ? [{ rpc: "repair_cart_totals", cartId, label: "Repair totals" }] : [];
    case "long_wait":
      return cartId ? [{ rpc: "abandon_cart", cartId, label: "Abandon cart" }] : [];
    default:
      return [];
  }
}

function sum(rows: HourFigures[], key: keyof HourFigures): number {
  return rows.reduce((total, row) => total + Number(row[key] ?? 0), 0);
}

export function StoreHealth({ supabase, store }: { supabase: SupabaseClient; store: StoreHome }) {
  const [hours, setHours] = useState<HourFigures[]>([]);
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [fixing, setFixing] = useState<{ fix: Fix; reason: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const load = useCallback(async () => {
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const [health, open] = await Promise.all([
      supabase.rpc("get_store_health", { p_store_id: store.id, p_since: midnight.toISOString() }),
      supabase.rpc("list_store_alerts", { p_store_id: store.id }),
    ]);
    if (health.error || open.error) {
      setError((health.error ?? open.error)!.message);
      return;
    }
    setError(null);
    setHours(health.data as HourFigures[]);
    setAlerts(open.data as Alert[]);
  }, [supabase, store.id]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 15_000);
    return () => clearInterval(timer);
  }, [load]);

  async function apply(event: FormEvent) {
    event.preventDefault();
    if (!fixing) return;
    const { fix, reason } = fixing;
    const args = fix.rpc === "merge_store_duplicate_carts"
      ? { p_store_id: store.id, p_reason: reason }
      : { p_cart_id: fix.cartId, p_reason: reason };
    const { error } = await supabase.rpc(fix.rpc, args);
    if (error) {
      setError(error.message);
      return;
    }
    setFixing(null);
    setDone(`${fix.label}: done.`);
    await load();
  }

  // The few an owner reads first, big, beside the day's shape; the rest in the table under them.
  const headline: Array<[string, string]> = [
    ["Taken today", cents(sum(hours, "checkout_value_cents"))],
    ["Checkouts", String(sum(hours, "checkouts"))],
    ["Changes to carts", String(sum(hours, "mutations"))],
  ];
  const figures: Array<[string, string]> = [
    ["Changes to carts", String(sum(hours, "mutations"))],
    ["Checkouts", String(sum(hours, "checkouts"))],
    ["Taken at checkout", cents(sum(hours, "checkout_value_cents"))],
    ["Checkout locks", String(sum(hours, "locks_taken"))],
    ["Locks expired", String(sum(hours, "locks_expired"))],
    ["Conflicting changes", String(sum(hours, "version_conflicts"))],
    ["Refused while locked", String(sum(hours, "locked_refusals"))],
    ["Busy answers", String(sum(hours, "busy_answers"))],
    ["Retried taps answered once", String(sum(hours, "idempotent_replays"))],
    ["Carts merged", String(sum(hours, "merges"))],
  ];
  const ordered = [...alerts].sort((a, b) =>
    (a.severity === b.severity ? 0 : a.severity === "critical" ? -1 : 1) || Date.parse(a.since) - Date.parse(b.since)
  );

  return (
    <section className="panel health" aria-labelledby="health-title">
      <h2 id="health-title">Store health: {store.name}</h2>
      {error && <p className="message error" role="alert">{error}</p>}
      {done && <p className="message info" role="status">{done}</p>}
      <h3>Needs a person now</h3>
      {ordered.length === 0
        ? <p className="muted">Nothing needs attention.</p>
        : (
          <ul aria-label="Open alerts" className="alerts">
            {ordered.map((alert, i) => (
              <li key={`${alert.kind}-${alert.cart_id ?? i}`} className={`row ${alert.severity}`}>
                <span className={`badge ${alert.severity === "critical" ? "locked" : ""}`}>
                  {alert.severity === "critical" ? "Now" : "Soon"}
                </span>
                <span className="grow">
                  <strong>{ALERT_TITLES[alert.kind] ?? alert.kind}</strong>
                  {alert.location_name ? ` · ${alert.location_name}` : ""}
                  {alert.customer_name ? ` · ${alert.customer_name}` : ""} · for {since(alert.since)}
                </span>
                {fixesFor(alert).map((fix) => (
                  <button
                    type="button"
                    key={fix.label}
                    onClick={() => setFixing({ fix, reason: "" })}
                  >
                    {fix.label}
                  </button>
                ))}
              </li>
            ))}
          </ul>
        )}
      {fixing && (
        <form onSubmit={apply} className="row" aria-label={`${fixing.fix.label}: give a reason`}>
          <label className="grow">
            Reason for “{fixing.fix.label}” (kept in the cart's history)
            <input
              required
              maxLength={500}
              value={fixing.reason}
              onChange={(e) => setFixing({ ...fixing, reason: e.target.value })}
              autoFocus
            />
          </label>
          <button type="submit" className="primary" disabled={!fixing.reason.trim()}>Apply</button>
          <button type="button" onClick={() => setFixing(null)}>Cancel</button>
        </form>
      )}
      <h3>Today</h3>
      <div className="today">
        <dl className="headline">
          {headline.map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
        <HourChart points={hoursOfToday(hours)} />
      </div>
      <details>
        <summary>All of today's figures</summary>
        <table>
          <caption className="visually-hidden">Today's figures</caption>
          <tbody>
            {figures.map(([label, value]) => (
              <tr key={label}>
                <th scope="row">{label}</th>
                <td className="num">{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
