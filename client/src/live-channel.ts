// Following one topic over Realtime for as long as anyone asks: the channel is
// joined on the first follow and left on the last, and what changed while it
// was not subscribed is read again once it is, and again once Realtime says
// its replication is ready (a cold project does not broadcast what was
// committed before). Suspended (signed out), it leaves the channel and keeps
// who follows, to join again on resume.
import type { RealtimeChannel, SupabaseClient } from "@supabase/supabase-js";
import type { LiveStatus } from "./state.ts";

export interface LiveHost {
  readonly supabase: SupabaseClient;
  /** Private channels: the token goes to Realtime before the join. */
  authorizeRealtime(): Promise<void>;
}

export class LiveChannel {
  #refs = 0;
  #channel: RealtimeChannel | null = null;
  #generation = 0;
  #status: LiveStatus = "off";
  #suspended = false;
  readonly #host: LiveHost;
  readonly #topic: string;
  readonly #event: string;
  readonly #onPayload: (payload: unknown) => void;
  readonly #onSubscribed: () => void;
  readonly #onStatus: () => void;

  constructor(options: {
    host: LiveHost;
    topic: string;
    event: string;
    onPayload: (payload: unknown) => void;
    /**
     * Called on every (re)subscription and on `replication_ready`: what changed
     * meanwhile never arrives as a broadcast.
     */
    onSubscribed: () => void;
    onStatus: () => void;
  }) {
    this.#host = options.host;
    this.#topic = options.topic;
    this.#event = options.event;
    this.#onPayload = options.onPayload;
    this.#onSubscribed = options.onSubscribed;
    this.#onStatus = options.onStatus;
  }

  get status(): LiveStatus {
    return this.#status;
  }

  get isFollowed(): boolean {
    return this.#refs > 0;
  }

  /** Follows the topic until the returned function is called. */
  follow(): () => void {
    if (++this.#refs === 1 && !this.#suspended) void this.#start();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--this.#refs === 0) void this.#stop();
    };
  }

  /** Leaves the channel whoever still follows it: the client is going away. */
  shutdown(): Promise<unknown> {
    this.#refs = 0;
    return this.#stop();
  }

  /**
   * Leaves the channel but keeps its followers: Realtime ignores the key
   * supabase-js pushes on sign-out, so a channel left joined would go on
   * receiving with the signed-out user's token until it expires.
   */
  suspend(): Promise<unknown> {
    this.#suspended = true;
    return this.#stop();
  }

  /** Joins again for whoever still follows, after a sign-in. */
  resume(): void {
    if (!this.#suspended) return;
    this.#suspended = false;
    if (this.#refs > 0 && !this.#channel) void this.#start();
  }

  #setStatus(status: LiveStatus): void {
    if (this.#status !== status) {
      this.#status = status;
      this.#onStatus();
    }
  }

  async #start(): Promise<void> {
    const generation = ++this.#generation;
    this.#setStatus("connecting");
    await this.#host.authorizeRealtime();
    // Stopped (and maybe started again) meanwhile: that later start owns the channel.
    if (generation !== this.#generation) return;
    const channel = this.#host.supabase.channel(this.#topic, {
      config: { private: true, broadcast: { replication_ready: true } },
    });
    this.#channel = channel;
    channel.on("broadcast", { event: this.#event }, ({ payload }) => this.#onPayload(payload))
      .on("system", {}, (message: { extension?: string; status?: string }) => {
        // replication_ready: from now on every change is broadcast; read what came before.
        if (this.#channel === channel && message?.extension === "system" && message.status === "ok") {
          this.#onSubscribed();
        }
      })
      .subscribe((status) => {
        if (this.#channel !== channel) return;
        if (status === "SUBSCRIBED") {
          this.#setStatus("live");
          this.#onSubscribed();
        } else this.#setStatus(status === "CLOSED" ? "off" : "error");
      });
  }

  #stop(): Promise<unknown> {
    this.#generation++;
    const channel = this.#channel;
    this.#channel = null;
    this.#setStatus("off");
    return channel ? this.#host.supabase.removeChannel(channel) : Promise.resolve();
  }
}
