// A location's queue as one device sees it, and the queue's actions.
import { LiveChannel } from "./live-channel.ts";
import { Observable } from "./observable.ts";
import { normalizeQueue } from "./snapshots.ts";
import type { ActionHandle, QueueState, Rejection } from "./state.ts";
import type { StoreHost } from "./store-host.ts";
import type { QueueEntry, QueueJoin, QueueSnapshot } from "./types.ts";

const noop = () => {};

export class QueueStore extends Observable<QueueState> {
  #rejected: Rejection[] = [];
  readonly #live: LiveChannel;
  /** Broadcasts received so far: a read started before the latest one is older than what is shown. */
  #received = 0;

  readonly locationId: string;
  private readonly client: StoreHost;

  constructor(locationId: string, client: StoreHost) {
    super(() => client.queueState(locationId, this.#rejected, this.#live.status));
    this.locationId = locationId;
    this.client = client;
    this.#live = new LiveChannel({
      host: client,
      topic: `queue:${locationId}`,
      event: "queue_updated",
      onPayload: (payload) => this.receive(payload),
      onSubscribed: () => void this.refetch().catch(noop),
      onStatus: () => this.changed(),
    });
  }

  /** @internal */
  notify(): void {
    this.changed();
  }

  /** @internal */
  reject(rejection: Rejection): void {
    this.#rejected = [...this.#rejected, rejection].slice(-50);
    this.changed();
  }

  dismiss(key: string): void {
    this.#rejected = this.#rejected.filter((r) => r.key !== key);
    this.changed();
  }

  /** @internal */
  receive(payload: unknown): void {
    const queue = normalizeQueue(payload);
    if (!queue || queue.location_id !== this.locationId) return;
    this.#received++;
    this.client.setQueue(queue);
  }

  async refetch(): Promise<QueueSnapshot> {
    const before = this.#received;
    const queue = await this.client.fetchQueue(this.locationId);
    if (this.#received === before) this.client.setQueue(queue);
    return queue;
  }

  join(customerId: string): ActionHandle<QueueJoin> {
    return this.client.act({
      kind: "add_to_queue",
      locationId: this.locationId,
      customerId,
    });
  }

  /** The next waiting entry, now `serving`, or null when no one waits. */
  callNext(): ActionHandle<QueueEntry | null> {
    return this.client.act({ kind: "call_next", locationId: this.locationId });
  }

  complete(entryId: string): ActionHandle<QueueEntry> {
    return this.client.act({
      kind: "complete_queue_entry",
      locationId: this.locationId,
      entryId,
    });
  }

  leave(entryId: string): ActionHandle<QueueEntry> {
    return this.client.act({ kind: "leave_queue", locationId: this.locationId, entryId });
  }

  live(): () => void {
    return this.#live.follow();
  }

  /** @internal */
  get isLive(): boolean {
    return this.#live.isFollowed;
  }

  /** @internal Leaves the channel whoever still follows it: the client is going away. */
  shutdown(): Promise<unknown> {
    return this.#live.shutdown();
  }

  /** @internal Leaves the channel until resumeLive(): the user signed out. */
  suspendLive(): Promise<unknown> {
    return this.#live.suspend();
  }

  /** @internal */
  resumeLive(): void {
    this.#live.resume();
  }
}
