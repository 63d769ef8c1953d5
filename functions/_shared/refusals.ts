// Counts the refusals that roll back (version_conflict, cart_locked, busy) for
// ops.store_health. The refused transaction left no trace in the database, so
// the refusal is recorded afterwards, in a transaction of its own
// (public.record_refusal), and the request never waits for it: a slow or failing
// count cannot delay or fail an answer. One call at a time, so counting never
// holds more than one pooled connection, and at most MAX_PENDING waiting, so a
// storm of refusals cannot grow memory; what is dropped or fails is logged.
import { withDatabase } from "./db.ts";
import { ApiError, fromPostgresError } from "./errors.ts";
import { callRpc, type RpcName } from "./rpc.ts";

const COUNTED = new Set<string>(["version_conflict", "cart_locked", "busy"]);
const MAX_PENDING = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Refusal {
  p_code: string;
  p_rpc: string;
  p_cart_id?: string;
  p_location_id?: string;
  p_entry_id?: string;
}

const pending: Refusal[] = [];
let draining = false;

/** A `.catch` handler for an RPC call: notes a counted refusal, then rethrows. */
export function noteRefusal(rpc: RpcName, args: Record<string, unknown>): (error: unknown) => never {
  return (error) => {
    const code = (error instanceof ApiError ? error : fromPostgresError(error))?.code;
    if (code && COUNTED.has(code)) enqueue({ p_code: code, p_rpc: rpc, ...targets(args) });
    throw error;
  };
}

/** The objects the refused call named; the database finds their store. */
function targets(args: Record<string, unknown>): Partial<Refusal> {
  const out: Partial<Refusal> = {};
  for (const key of ["p_cart_id", "p_location_id", "p_entry_id"] as const) {
    const value = args[key];
    if (typeof value === "string" && UUID.test(value)) out[key] = value;
  }
  return out;
}

function enqueue(refusal: Refusal): void {
  if (pending.length >= MAX_PENDING) {
    console.warn(JSON.stringify({ level: "warn", msg: "refusal not counted: too many pending", code: refusal.p_code }));
    return;
  }
  pending.push(refusal);
  if (draining) return;
  draining = true;
  // After the answer is on its way; on the hosted runtime, kept alive past it.
  const work = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(drain);
  (globalThis as { EdgeRuntime?: { waitUntil?(p: Promise<unknown>): void } }).EdgeRuntime?.waitUntil?.(work);
}

async function drain(): Promise<void> {
  try {
    for (let refusal = pending.shift(); refusal; refusal = pending.shift()) {
      try {
        await withDatabase({}, (sql) => callRpc(sql, "record_refusal", { ...refusal }, { role: "service_role" }));
      } catch (error) {
        console.error(
          JSON.stringify({ level: "error", msg: "refusal not counted", code: refusal.p_code, error: String(error) }),
        );
      }
    }
  } finally {
    draining = false;
  }
}
