import { useState } from "react";
import { useQueue } from "@onecart/client/react";
import type { Named } from "./home.ts";
import { rejectionText } from "./messages.ts";
import { ago } from "./format.ts";

export function QueueBoard({ locationId, customers, onOpenCart }: {
  locationId: string;
  customers: Named[];
  onOpenCart: (customerId: string) => void;
}) {
  const [state, queue] = useQueue(locationId);
  const store = queue!; // a location is given, so there is a store
  const [joining, setJoining] = useState("");
  const nameOf = (id: string) => customers.find((c) => c.id === id)?.name ?? "Customer";
  const entries = state.queue?.entries ?? [];
  const waiting = new Set(entries.map((e) => e.customer_id));
  const anyoneWaiting = entries.some((e) => e.status === "waiting");
  // One call at a time from this device: a double-tap must not call two customers.
  const calling = state.pending.some((p) => p.kind === "call_next");

  return (
    <section className="panel queue" aria-labelledby="queue-title">
      <div className="row">
        <h2 id="queue-title" className="grow">Queue</h2>
        {state.pending.length > 0 && <span className="badge pending">{state.pending.length} pending</span>}
        {/* An empty queue says so below; beside a customer being served, no one waiting is what keeps it off. */}
        {!anyoneWaiting && entries.length > 0 && <span className="muted" id="call-next-why">No one waiting</span>}
        <button
          type="button"
          className="primary"
          disabled={!anyoneWaiting || calling}
          aria-describedby={anyoneWaiting ? undefined : "call-next-why"}
          onClick={() => store.callNext()}
        >
          Call next
        </button>
      </div>
      <form
        className="row nowrap"
        onSubmit={(e) => {
          e.preventDefault();
          if (joining) store.join(joining);
          setJoining("");
        }}
      >
        <label className="grow">
          <span className="visually-hidden">Customer to add</span>
          <select aria-label="Customer to add" value={joining} onChange={(e) => setJoining(e.target.value)}>
            <option value="">Choose a customer…</option>
            {customers.filter((c) => !waiting.has(c.id)).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        </label>
        <button type="submit" disabled={!joining}>Add to queue</button>
      </form>
      {state.rejected.map((r) => (
        <p key={r.key} className="message error" role="alert">
          {rejectionText(r)} <button type="button" onClick={() => store.dismiss(r.key)}>Dismiss</button>
        </p>
      ))}
      {entries.length === 0
        ? <p className="muted" id="call-next-why">No one is waiting.</p>
        : (
          <ol aria-label="Customers in the queue">
            {entries.map((entry) => (
              <li
                key={entry.id}
                data-status={entry.status}
                aria-label={`Ticket ${entry.ticket_number}, ${nameOf(entry.customer_id)}`}
              >
                <span className="ticket">{entry.ticket_number}</span>
                <span>
                  <strong>{nameOf(entry.customer_id)}</strong>
                  <br />
                  {/* Each part stays whole, so a narrow row breaks between "Being served" and "called just now". */}
                  <span className="muted">
                    {entry.status === "serving"
                      ? (
                        <>
                          <span className="nowrap">Being served</span> ·{" "}
                          <span className="nowrap">called {ago(entry.called_at)}</span>
                        </>
                      )
                      : (
                        <>
                          <span className="nowrap">Waiting · #{entry.position}</span> ·{" "}
                          <span className="nowrap">{ago(entry.joined_at)}</span>
                        </>
                      )}
                  </span>
                </span>
                <span className="row">
                  <button type="button" onClick={() => onOpenCart(entry.customer_id)}>Cart</button>
                  {entry.status === "serving" && (
                    <button type="button" onClick={() => store.complete(entry.id)}>Done</button>
                  )}
                  <button type="button" className="danger" onClick={() => store.leave(entry.id)}>Leave</button>
                </span>
              </li>
            ))}
          </ol>
        )}
    </section>
  );
}
