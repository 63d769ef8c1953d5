// A POS device for the client tests: the library over supabase-js over a
// faulty network, against the real local stack.
import { afterAll } from "vitest";
import { createOnecart, type Onecart, type OnecartOptions } from "../../client/src/index.ts";
import type { TestServer } from "../helpers/server.ts";
import { createNetwork, deviceSupabase, type Network } from "./network.ts";

/**
 * ONECART_CLIENT_NAIVE=1 switches off the keys the library makes for its
 * actions (the outbox's retries), not the keys a caller passes to
 * `onecart.api` itself. The tests that prove an action applies once, because
 * an answer is lost or a retry is forced, must then fail, each on an action
 * applied twice:
 * - exactly-once: "the answer of a committed add is lost…", "busy and
 *   unavailable are retried with the same key…", "locks after the pending
 *   taps…", "a lost answer over rpc…";
 * - offline: both tests; auth: "a refreshed token…"; chaos: the one test.
 * The others pass either way, and are not evidence about keys: they retry no
 * answered mutation (a 4xx, giving up, a 500, payment failure, an expired
 * lock, live reads, React), or call `onecart.api` with keys of their own (the
 * two "results and errors carry the contract's shapes and codes", the typed
 * ops call).
 */
export const NAIVE = process.env.ONECART_CLIENT_NAIVE === "1";

export interface Device {
  network: Network;
  onecart: Onecart;
}

const devices: Onecart[] = [];
afterAll(async () => {
  await Promise.all(devices.map((d) => d.destroy()));
});

export function startDevice(
  server: TestServer,
  token: string,
  options: Partial<OnecartOptions> & { network?: Network } = {},
): Device {
  const network = options.network ?? createNetwork();
  const onecart = createOnecart({
    supabase: deviceSupabase(server, token, network),
    ...options,
    testing: { disableIdempotencyKeys: NAIVE, ...options.testing },
  });
  devices.push(onecart);
  return { network, onecart };
}

export { until } from "../helpers/until.ts";
