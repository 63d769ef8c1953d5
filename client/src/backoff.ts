// How long to wait before the next try of an action or a read.
import { asOnecartError } from "./errors.ts";

/** Exponential backoff with jitter, never sooner than the server's Retry-After. */
export function backoff(
  failureCount: number,
  error: unknown,
  retry: { initialDelayMs: number; maxDelayMs: number },
): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.min(failureCount, 16));
  const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
  const retryAfter = asOnecartError(error).retryAfterSeconds;
  return Math.max(jittered, retryAfter ? retryAfter * 1000 : 0);
}
