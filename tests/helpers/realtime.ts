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
  device.channel = client.channel(topic, { config: { private: opts.private } })
    .on("broadcast", { event }, ({ payload }) => device.received.push(payload));
  await new Promise<void>((resolve) => {
    device.channel.subscribe((status, error) => {
      device.statuses.push(status);
      opts.onStatus?.(status);
      if (error) device.errors.push(`${error.message} ${JSON.stringify((error as { cause?: unknown }).cause ?? "")}`);
      resolve();
    });
  });
  return device;
}

export { until } from "./until.ts";

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
