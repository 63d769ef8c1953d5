// The Realtime limits of a Supabase plan ("Realtime Limits", supabase.com/docs/
// guides/realtime/limits), which the local Realtime enforces the way Supabase
// Realtime does (lib/realtime/tenants.ex, lib/realtime/rate_counter):
// ONECART_REALTIME_PLAN names the plan; the default is Pro, the plan
// docs/deploy.md recommends for a store.
export interface RealtimePlan {
  name: string;
  maxConcurrentUsers: number;
  maxEventsPerSecond: number;
  maxJoinsPerSecond: number;
  maxChannelsPerClient: number;
  maxPayloadSizeInKb: number;
}

export const PLANS: Record<string, RealtimePlan> = {
  free: {
    name: "free",
    maxConcurrentUsers: 200,
    maxEventsPerSecond: 100,
    maxJoinsPerSecond: 100,
    maxChannelsPerClient: 100,
    maxPayloadSizeInKb: 256,
  },
  pro: {
    name: "pro",
    maxConcurrentUsers: 500,
    maxEventsPerSecond: 500,
    maxJoinsPerSecond: 500,
    maxChannelsPerClient: 100,
    maxPayloadSizeInKb: 3000,
  },
  pro_no_spend_cap: {
    name: "pro_no_spend_cap",
    maxConcurrentUsers: 10_000,
    maxEventsPerSecond: 2500,
    maxJoinsPerSecond: 2500,
    maxChannelsPerClient: 100,
    maxPayloadSizeInKb: 3000,
  },
  team: {
    name: "team",
    maxConcurrentUsers: 10_000,
    maxEventsPerSecond: 2500,
    maxJoinsPerSecond: 2500,
    maxChannelsPerClient: 100,
    maxPayloadSizeInKb: 3000,
  },
};

export const DEFAULT_PLAN = "pro";

export function planFromEnv(value = Deno.env.get("ONECART_REALTIME_PLAN")): RealtimePlan {
  const name = value || DEFAULT_PLAN;
  const plan = PLANS[name];
  if (!plan) throw new Error(`ONECART_REALTIME_PLAN must be one of ${Object.keys(PLANS).join(", ")}, not "${name}"`);
  return plan;
}

/**
 * Realtime.Tenants.validate_payload_size: a payload is over the limit past
 * max_payload_size_in_kb × 1000 bytes plus 500 of padding (measured there as
 * the Erlang term's size, which for the payload's binary is its byte length
 * and a few bytes of header).
 */
export function payloadTooLarge(plan: RealtimePlan, bytes: number): boolean {
  return bytes > plan.maxPayloadSizeInKb * 1000 + 500;
}

/**
 * Realtime.RateCounter as the tenant limits use it: every 5 s the events
 * counted since the last tick become a bucket; the average per second over the
 * last 12 buckets (a minute) is compared with the limit. The limit is
 * triggered at a tick whose average reaches it, and released at a tick whose
 * average is under it; between ticks it stays as it was.
 */
export class RateCounter {
  static readonly TICK_MS = 5000;
  static readonly MAX_BUCKETS = 12;
  #count = 0;
  #buckets: number[] = [];
  #timer: ReturnType<typeof setInterval>;
  triggered = false;

  constructor(readonly limit: number, readonly onChange: (triggered: boolean, avg: number) => void) {
    // As upstream, the first tick is at once (an empty bucket), then every 5 s.
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), RateCounter.TICK_MS);
  }

  add(n = 1): void {
    this.#count += n;
  }

  #tick(): void {
    this.#buckets = [this.#count, ...this.#buckets].slice(0, RateCounter.MAX_BUCKETS);
    this.#count = 0;
    const avg = this.#buckets.reduce((a, b) => a + b, 0) / this.#buckets.length / (RateCounter.TICK_MS / 1000);
    const next = avg >= this.limit;
    if (next !== this.triggered) {
      this.triggered = next;
      this.onChange(next, avg);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
