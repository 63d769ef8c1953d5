// A device's view of Realtime through supabase-js: every subscribe status it
// was told (a rejoin says SUBSCRIBED again), with the error that came with it,
// and every message of one event.
import type { RealtimeChannel, SupabaseClient } from "@supabase/supabase-js";

export interface Device {
  client: SupabaseClient;
  channel: RealtimeChannel;
  received: any[];
  statuses: string[];
  errors: string[];
  /** The latest status. */
  readonly status: string;
}

/** Joins `topic` and resolves at the first answer to the join (SUBSCRIBED, CHANNEL_ERROR, ...). */
export async function joinChannel(
  client: SupabaseClient,
  topic: string,
  event: string,
  opts: { private: boolean; onStatus?: (status: string) => void },
): Promise<Device> {
  await client.realtime.setAuth();
  const device = {
    client,
    received: [] as any[],
    statuses: [] as string[],
    errors: [] as string[],
    get status() {
      return this.statuses.at(-1) ?? "";
    },
  } as Device;
  // As a project's client must: SUBSCRIBED says the channel is joined, and
  // `replication_ready` that the database's changes flow to it (a cold project
  // starts its replication on the first connection).
  let replicating!: () => void;
  const ready = new Promise<void>((resolve) => (replicating = resolve));
  device.channel = client.channel(topic, { config: { private: opts.private, broadcast: { replication_ready: true } } })
    .on("broadcast", { event }, ({ payload }) => device.received.push(payload))
    .on("system", {}, (message: { status?: string; extension?: string }) => {
      if (message.status === "ok" && message.extension === "system") replicating();
    });
  const first = await new Promise<string>((resolve) => {
    device.channel.subscribe((status, error) => {
      device.statuses.push(status);
      opts.onStatus?.(status);
      if (error) device.errors.push(`${error.message} ${JSON.stringify((error as { cause?: unknown }).cause ?? "")}`);
      resolve(status);
    });
  });
  if (first === "SUBSCRIBED") await ready;
  return device;
}

export { until } from "./until.ts";

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * For tests that are refused joins or connections on purpose: Supabase Realtime
 * answers those after 5 s and 2 s (CHANNEL_ERROR_BACKOFF_MS,
 * CONNECT_ERROR_BACKOFF_MS); its own test configuration shortens both to 100 ms.
 */
export const SHORT_REALTIME_BACKOFFS = { CHANNEL_ERROR_BACKOFF_MS: "100", CONNECT_ERROR_BACKOFF_MS: "100" };
