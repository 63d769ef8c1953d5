// GoTrue's per-IP limiters (internal/api/apilimiter/apilimiter.go): tollbooth
// over golang.org/x/time/rate, a token bucket per key that starts full at its
// burst and refills at its rate; keys unseen for an hour are forgotten.
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** `perSecond` refill, `burst` tokens at most. */
  constructor(readonly perSecond: number, readonly burst: number, readonly ttlMs = 60 * 60 * 1000) {}

  /** Takes one token for `key`; false when the bucket is empty (GoTrue's 429). */
  take(key: string, now = Date.now()): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket || now - bucket.at > this.ttlMs) bucket = { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
