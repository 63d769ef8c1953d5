// What an app can set when it creates a client.
import type { SupabaseClient } from "@supabase/supabase-js";
import type { Coordination } from "./presence.ts";
import type { KeyValueStorage } from "./storage.ts";

export interface OnecartOptions {
  supabase: SupabaseClient;
  /** `functions` (default): the contract's edge functions. `rpc`: `supabase.rpc()` straight to Postgres. */
  via?: "functions" | "rpc";
  /** Where pending actions and confirmed snapshots are kept across restarts (default: memory). */
  storage?: KeyValueStorage;
  /** The key under which this device's state is stored. */
  storageKey?: string;
  retry?: {
    /** How long an action keeps retrying while online before the app is told (default 30 s). */
    maxElapsedMs?: number;
    /** The first backoff (default 200 ms); it doubles per try, with jitter. */
    initialDelayMs?: number;
    /** The longest backoff (default 5 s). */
    maxDelayMs?: number;
  };
  /** How long one request may take before it counts as lost (default 15 s). */
  requestTimeoutMs?: number;
  /**
   * How old a queued action may be and still be sent by itself (default 24 h,
   * as POS products bound offline work). An older one is reported as rejected
   * with the code `expired`; the app sends it anyway with `resend(key)` or
   * drops it with `discard(key)`. It stays in storage until then.
   */
  maxActionAgeMs?: number;
  /** How clients that share one storage and key share its outbox. */
  outbox?: {
    /** `web-locks` (default where `navigator.locks` exists) or `lease` (a record in the storage, renewed). */
    coordination?: Coordination;
    /** How long a lease lasts without renewal: how soon a crashed client's actions are taken over (default 10 s). */
    leaseMs?: number;
    /** How often a running client looks for actions of clients that are gone (default 3 s). */
    scanIntervalMs?: number;
  };
  /** Makes an action's idempotency key; default `crypto.randomUUID()`. */
  newKey?: () => string;
  /** For tests only. */
  testing?: {
    /** Sends no idempotency key, from the outbox nor from `onecart.api`: the naive client whose retries can apply twice. */
    disableIdempotencyKeys?: boolean;
  };
}
