// A POS device for the client tests: the library over supabase-js over a
// faulty network, against the real local stack.
import { afterAll } from "vitest";
import { createOnecart, type Onecart, type OnecartOptions } from "../../client/src/index.ts";
import type { TestServer } from "../helpers/server.ts";
import { createNetwork, deviceSupabase, type Network } from "./network.ts";

/**
 * ONECART_CLIENT_NAIVE=1 runs every client test with the library's
 * idempotency keys switched off: each of them must then fail.
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
