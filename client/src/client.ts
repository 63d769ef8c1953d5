// The onecart client: every tap becomes an action with its own idempotency
// key, queued per cart (TanStack mutation scopes), retried with backoff
// (TanStack's retryer), paused while offline and kept in storage (TanStack's
// paused mutations and persister). What is onecart's own lives here: the
// key's life, the rebase of pending actions over confirmed snapshots by
// version, rejections with their codes, and when to read a cart again.
import type { RealtimeChannel, SupabaseClient } from "@supabase/supabase-js";
import { type Mutation, MutationCache, onlineManager, QueryClient } from "@tanstack/query-core";
import { persistQueryClientRestore, persistQueryClientSubscribe } from "@tanstack/query-persist-client-core";
import {
  type Action,
  type ActionKind,
  applyOptimistic,
  argsOf,
  type CartAction,
  findLine,
  isCartAction,
  type ItemOptions,
  type LineRef,
  type QueueAction,
  type RemoveItemAction,
  scopeOf,
  type SetQuantityAction,
} from "./actions.ts";
import { type ApiMethod, type CallOptions, createApi, createCaller, type OnecartApi } from "./api.ts";
import { operationOf } from "./contract.ts";
import { asOnecartError, OnecartError } from "./errors.ts";
import { Outbox } from "./outbox.ts";
import { type Coordination, defaultCoordination, type Presence, startPresence } from "./presence.ts";
import { BUSTER, type KeyValueStorage, memoryStorage, storagePersister } from "./storage.ts";
import type { Cart, CartHistoryEvent, LockedCart, QueueEntry, QueueJoin, QueueSnapshot } from "./types.ts";

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

/** Where a pending action stands. */
export interface PendingAction {
  key: string;
  kind: ActionKind;
  action: Action;
  /** `queued`: waits for an earlier action of its cart; `sending`: on the wire or between tries; `offline`: paused until the network returns. */
  status: "queued" | "sending" | "offline";
  failureCount: number;
  lastError: OnecartError | null;
}

export interface Rejection {
  key: string;
  action: Action;
  error: OnecartError;
  at: number;
}

export type LiveStatus = "off" | "connecting" | "live" | "error";

export interface CartState {
  /** What to show: the confirmed cart with this device's pending actions applied on top. */
  cart: Cart | null;
  /** The newest snapshot the server has confirmed (a response or a broadcast). */
  confirmed: Cart | null;
  /** This device's actions on the cart not yet confirmed, in the order they were made. */
  pending: PendingAction[];
  /** Actions the server refused (or that gave up), newest last, until dismissed. */
  rejected: Rejection[];
  live: LiveStatus;
}

export interface QueueState {
  queue: QueueSnapshot | null;
  pending: PendingAction[];
  rejected: Rejection[];
  live: LiveStatus;
}

export interface ActionHandle<T> {
  key: string;
  action: Action;
  /** Settles when the server has answered for good: the result, or the OnecartError that rejected it. */
  done: Promise<T>;
}

type Listener = () => void;

const NIL_CART = "00000000-0000-4000-8000-000000000000";

/**
 * A version 4 UUID. `crypto.randomUUID` exists only in secure contexts; a POS
 * web app served over plain http on the shop's network still has
 * `getRandomValues`.
 */
function randomKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
const noop = () => {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Observable<S> {
  #listeners = new Set<Listener>();
  #state: S | undefined;
  readonly #compute: () => S;
  constructor(compute: () => S) {
    this.#compute = compute;
  }
  getState = (): S => (this.#state ??= this.#compute());
  subscribe = (listener: Listener): () => void => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
  protected changed(): void {
    this.#state = undefined;
    for (const listener of this.#listeners) listener();
  }
}

export class CartStore extends Observable<CartState> {
  #rejected: Rejection[] = [];
  #live: LiveStatus = "off";
  #liveRefs = 0;
  #channel: RealtimeChannel | null = null;
  #generation = 0;

  readonly id: string;
  private readonly client: Onecart;

  constructor(id: string, client: Onecart) {
    super(() => client.computeCartState(id, this.#rejected, this.#live));
    this.id = id;
    this.client = client;
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

  /** Forgets a rejection once the app has shown it. */
  dismiss(key: string): void {
    this.#rejected = this.#rejected.filter((r) => r.key !== key);
    this.changed();
  }

  /** Reads the cart now; the answer replaces the confirmed snapshot if it is newer. */
  refetch(): Promise<Cart> {
    return this.client.fetchCart(this.id);
  }

  addItem(productId: string, options: {
    quantity?: number;
    options?: ItemOptions;
    /** What to show on the pending line until the server answers with the product's name and price. */
    display?: { name?: string; unitPriceCents?: number };
  } = {}): ActionHandle<Cart> {
    return this.client.enqueue({
      kind: "add_item",
      cartId: this.id,
      productId,
      quantity: options.quantity ?? 1,
      options: options.options ?? {},
      display: options.display,
      ...this.client.stamp(),
    });
  }

  /** `line`: an item id from the cart shown (a pending line too), or the line's product and options. */
  setQuantity(line: LineRef | string, quantity: number): ActionHandle<Cart> {
    return this.client.enqueue({
      kind: "set_item_quantity",
      cartId: this.id,
      line: this.#lineRef(line),
      quantity,
      ...this.client.stamp(),
    });
  }

  removeItem(line: LineRef | string): ActionHandle<Cart> {
    return this.client.enqueue({
      kind: "remove_item",
      cartId: this.id,
      line: this.#lineRef(line),
      ...this.client.stamp(),
    });
  }

  /** Locks the cart for payment; the answer's `lock.token` is what update, unlock and complete need. */
  lock(options: { checkoutRef?: string; ttlSeconds?: number } = {}): ActionHandle<LockedCart> {
    return this.client.enqueue({
      kind: "lock_cart",
      cartId: this.id,
      checkoutRef: options.checkoutRef,
      ttlSeconds: options.ttlSeconds,
      ...this.client.stamp(),
    });
  }

  /** Swaps the checkout ref for the payment's real id once the terminal has one. */
  updateLock(options: { lockToken: string; checkoutRef: string }): ActionHandle<Cart> {
    return this.client.enqueue({ kind: "update_cart_lock", cartId: this.id, ...options, ...this.client.stamp() });
  }

  unlock(options: { lockToken: string }): ActionHandle<Cart> {
    return this.client.enqueue({ kind: "unlock_cart", cartId: this.id, ...options, ...this.client.stamp() });
  }

  /** Completes the checkout with the paid total; repeating it with the same token and ref returns the same cart. */
  complete(options: { lockToken: string; checkoutRef: string; paidTotalCents: number }): ActionHandle<Cart> {
    return this.client.enqueue({ kind: "complete_checkout", cartId: this.id, ...options, ...this.client.stamp() });
  }

  /**
   * The whole checkout by the contract's lock rules: lock (after every pending
   * action of this device), take the payment, swap the provisional checkout
   * ref for the payment's id, complete with the paid total. If the lock
   * expired while the payment went through, completing with the same token
   * still works as long as no item changed; if one did, the OnecartError
   * `cart_changed` carries `details.payment` so the app can refund or re-lock.
   */
  async checkout(options: {
    pay: (
      lock: { totalCents: number; checkoutRef: string; cart: LockedCart },
    ) => Promise<{ paymentId: string; paidTotalCents: number }>;
    ttlSeconds?: number;
    checkoutRef?: string;
  }): Promise<Cart> {
    const provisional = options.checkoutRef ?? `checkout-${this.client.stamp().key}`;
    const locked = await this.lock({ checkoutRef: provisional, ttlSeconds: options.ttlSeconds }).done;
    const lockToken = locked.lock.token;
    let payment: { paymentId: string; paidTotalCents: number };
    try {
      payment = await options.pay({ totalCents: locked.lock.total_cents, checkoutRef: provisional, cart: locked });
    } catch (error) {
      // No payment: give the cart back to the shop.
      await this.unlock({ lockToken }).done.catch(noop);
      throw error;
    }
    return this.completePaid({ lockToken, paymentId: payment.paymentId, paidTotalCents: payment.paidTotalCents });
  }

  /**
   * Completes a checkout whose payment went through, also after a restart or
   * an expired lock: records the payment's id on the lock when the lock still
   * holds, then completes with the token.
   */
  async completePaid(options: { lockToken: string; paymentId: string; paidTotalCents: number }): Promise<Cart> {
    const { lockToken, paymentId, paidTotalCents } = options;
    await this.updateLock({ lockToken, checkoutRef: paymentId }).done.catch((error) => {
      // An expired or released lock refuses the swap; the checkout below may still complete with its token.
      if (!(error instanceof OnecartError) || error.retryable) throw error;
    });
    try {
      return await this.complete({ lockToken, checkoutRef: paymentId, paidTotalCents }).done;
    } catch (error) {
      if (
        error instanceof OnecartError && (error.code === "cart_changed" || error.code === "lock_mismatch" ||
          error.code === "total_mismatch" || error.code === "cart_closed")
      ) {
        throw new OnecartError(error.code, error.message, {
          status: error.status,
          details: { ...(error.details as object ?? {}), payment: { paymentId, paidTotalCents } },
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Follows the cart live over Realtime until the returned function is called. */
  live(): () => void {
    if (++this.#liveRefs === 1) void this.#start();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--this.#liveRefs === 0) void this.#stop();
    };
  }

  /** @internal */
  get isLive(): boolean {
    return this.#liveRefs > 0;
  }

  #setLive(status: LiveStatus): void {
    if (this.#live !== status) {
      this.#live = status;
      this.changed();
    }
  }

  async #start(): Promise<void> {
    const generation = ++this.#generation;
    this.#setLive("connecting");
    await this.client.authorizeRealtime();
    // Stopped (and maybe started again) meanwhile: that later start owns the channel.
    if (generation !== this.#generation) return;
    const channel = this.client.supabase.channel(`cart:${this.id}`, { config: { private: true } });
    this.#channel = channel;
    channel.on("broadcast", { event: "cart_updated" }, ({ payload }) => this.client.receiveCart(this.id, payload))
      .subscribe((status) => {
        if (this.#channel !== channel) return;
        if (status === "SUBSCRIBED") {
          this.#setLive("live");
          // What changed while not subscribed never arrives: read it once.
          this.refetch().catch(noop);
        } else this.#setLive(status === "CLOSED" ? "off" : "error");
      });
  }

  #stop(): Promise<unknown> {
    this.#generation++;
    const channel = this.#channel;
    this.#channel = null;
    this.#setLive("off");
    return channel ? this.client.supabase.removeChannel(channel) : Promise.resolve();
  }

  /** @internal Leaves the channel whoever still follows it: the client is going away. */
  shutdown(): Promise<unknown> {
    this.#liveRefs = 0;
    return this.#stop();
  }

  #lineRef(line: LineRef | string): LineRef {
    const ref: LineRef = typeof line === "string" ? { itemId: line } : line;
    if ("itemId" in ref && ref.itemId.startsWith("pending:")) {
      // A line still pending has no server id yet: name it by product and options, resolved when it runs.
      const item = this.getState().cart?.items.find((i) => i.id === ref.itemId);
      if (item) return { productId: item.product_id, options: item.options };
    }
    return ref;
  }
}

export class QueueStore extends Observable<QueueState> {
  #rejected: Rejection[] = [];
  #live: LiveStatus = "off";
  #liveRefs = 0;
  #channel: RealtimeChannel | null = null;
  #generation = 0;
  /** Broadcasts received so far: a read started before the latest one is older than what is shown. */
  #received = 0;

  readonly locationId: string;
  private readonly client: Onecart;

  constructor(locationId: string, client: Onecart) {
    super(() => client.computeQueueState(locationId, this.#rejected, this.#live));
    this.locationId = locationId;
    this.client = client;
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
    return this.client.enqueue({
      kind: "add_to_queue",
      locationId: this.locationId,
      customerId,
      ...this.client.stamp(),
    });
  }

  /** The next waiting entry, now `serving`, or null when no one waits. */
  callNext(): ActionHandle<QueueEntry | null> {
    return this.client.enqueue({ kind: "call_next", locationId: this.locationId, ...this.client.stamp() });
  }

  complete(entryId: string): ActionHandle<QueueEntry> {
    return this.client.enqueue({
      kind: "complete_queue_entry",
      locationId: this.locationId,
      entryId,
      ...this.client.stamp(),
    });
  }

  leave(entryId: string): ActionHandle<QueueEntry> {
    return this.client.enqueue({ kind: "leave_queue", locationId: this.locationId, entryId, ...this.client.stamp() });
  }

  live(): () => void {
    if (++this.#liveRefs === 1) void this.#start();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--this.#liveRefs === 0) void this.#stop();
    };
  }

  /** @internal */
  get isLive(): boolean {
    return this.#liveRefs > 0;
  }

  #setLive(status: LiveStatus): void {
    if (this.#live !== status) {
      this.#live = status;
      this.changed();
    }
  }

  async #start(): Promise<void> {
    const generation = ++this.#generation;
    this.#setLive("connecting");
    await this.client.authorizeRealtime();
    // Stopped (and maybe started again) meanwhile: that later start owns the channel.
    if (generation !== this.#generation) return;
    const channel = this.client.supabase.channel(`queue:${this.locationId}`, { config: { private: true } });
    this.#channel = channel;
    channel.on("broadcast", { event: "queue_updated" }, ({ payload }) => this.receive(payload))
      .subscribe((status) => {
        if (this.#channel !== channel) return;
        if (status === "SUBSCRIBED") {
          this.#setLive("live");
          this.refetch().catch(noop);
        } else this.#setLive(status === "CLOSED" ? "off" : "error");
      });
  }

  #stop(): Promise<unknown> {
    this.#generation++;
    const channel = this.#channel;
    this.#channel = null;
    this.#setLive("off");
    return channel ? this.client.supabase.removeChannel(channel) : Promise.resolve();
  }

  /** @internal Leaves the channel whoever still follows it: the client is going away. */
  shutdown(): Promise<unknown> {
    this.#liveRefs = 0;
    return this.#stop();
  }
}

/** Only the contract's keys: a hosted `realtime.send` adds an `id` to a payload that has none. */
function normalizeQueue(payload: unknown): QueueSnapshot | null {
  const p = payload as Partial<QueueSnapshot> | null;
  if (!p || typeof p.location_id !== "string" || !Array.isArray(p.entries)) return null;
  return { location_id: p.location_id, entries: p.entries };
}

function isCart(value: unknown): value is Cart {
  const c = value as Cart | null;
  return !!c && typeof c.id === "string" && typeof c.version === "number" && Array.isArray(c.items);
}

const CART_KEY = (id: string) => ["onecart", "cart", id] as const;
const QUEUE_KEY = (locationId: string) => ["onecart", "queue", locationId] as const;

export class Onecart {
  readonly supabase: SupabaseClient;
  /** One attempt per call, typed per route; no queue, no retries. */
  readonly api: OnecartApi;
  readonly queryClient: QueryClient;
  /** Resolves once the state kept in storage is restored and its pending actions are replaying. */
  readonly ready: Promise<void>;

  /** This client among those sharing its storage and key. */
  readonly clientId: string;

  #options: Required<Pick<OnecartOptions, "requestTimeoutMs" | "newKey" | "maxActionAgeMs">> & {
    retry: Required<NonNullable<OnecartOptions["retry"]>>;
  };
  #sendKeys: boolean;
  #carts = new Map<string, CartStore>();
  #queues = new Map<string, QueueStore>();
  #rejectionListeners = new Set<(rejection: Rejection) => void>();
  #failingSince = new Map<string, number>();
  /** Per cart, the action sent and not yet answered for good (only one: a cart's actions go one at a time). */
  #inFlight = new Map<string, string>();
  /** Per cart, the newest snapshot held back while an action of this device is in flight. */
  #deferred = new Map<string, Cart>();
  /** Actions whose answer is in the base already, in the moment before TanStack marks them done. */
  #answered = new Set<string>();
  #persister: ReturnType<typeof storagePersister>;
  #outbox: Outbox;
  #presence: Presence;
  /** Actions refused for their age, kept in storage until the app resends or discards them. */
  #expired = new Map<string, Action>();
  #cleanup: Array<() => void> = [];
  #probing = false;
  #destroyed = false;
  #isReady = false;

  constructor(options: OnecartOptions) {
    this.supabase = options.supabase;
    this.#sendKeys = !options.testing?.disableIdempotencyKeys;
    const caller = createCaller(options.supabase, options.via ?? "functions");
    this.api = createApi(
      this.#sendKeys ? caller : (method, args, { idempotencyKey: _, ...rest } = {}) => caller(method, args, rest),
    );
    this.#options = {
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      newKey: options.newKey ?? randomKey,
      maxActionAgeMs: options.maxActionAgeMs ?? 24 * 60 * 60 * 1000,
      retry: { maxElapsedMs: 30_000, initialDelayMs: 200, maxDelayMs: 5_000, ...options.retry },
    };
    const mutationCache = new MutationCache({
      onSuccess: (data, variables) => this.#confirmed(variables as Action, data),
      onError: (error, variables) => this.#rejected(variables as Action, error),
    });
    this.queryClient = new QueryClient({
      mutationCache,
      defaultOptions: { queries: { gcTime: Number.POSITIVE_INFINITY, retry: false, networkMode: "always" } },
    });
    // Every action, new or restored from storage, runs through these: the
    // function and retry policy are not stored with it.
    this.queryClient.setMutationDefaults(["onecart"], {
      mutationFn: (variables) => this.#run(variables as unknown as Action),
      retry: (_count, error) => asOnecartError(error).retryable && !(error as { giveUp?: boolean }).giveUp,
      retryDelay: (count, error) => this.#backoff(count, error),
      networkMode: "online",
      // A settled action is forgotten at once: its answer went to its handle and its store.
      gcTime: 0,
    });
    this.queryClient.mount();
    const storage = options.storage ?? memoryStorage();
    const storageKey = options.storageKey ?? "onecart";
    this.clientId = randomKey();
    this.#presence = startPresence({
      coordination: options.outbox?.coordination ?? defaultCoordination(),
      storage,
      storageKey,
      clientId: this.clientId,
      leaseMs: options.outbox?.leaseMs ?? 10_000,
    });
    this.#outbox = new Outbox({ storage, storageKey, presence: this.#presence, clientId: this.clientId });
    this.#persister = storagePersister(storage, storageKey, (actions) => this.#outbox.adopt(actions));
    const scan = setInterval(() => void this.#takeOver(), options.outbox?.scanIntervalMs ?? 3_000);
    this.#cleanup.push(() => clearInterval(scan));

    this.#cleanup.push(mutationCache.subscribe((event) => {
      const action = event.mutation?.state.variables as Action | undefined;
      if (!action) return;
      if (event.mutation!.state.status !== "pending") this.#answered.delete(action.key);
      this.#storeOf(action)?.notify();
    }));
    this.#cleanup.push(
      this.queryClient.getQueryCache().subscribe((event) => {
        const [ns, kind, id] = event.query.queryKey as string[];
        if (ns !== "onecart") return;
        if (kind === "cart") this.#carts.get(id)?.notify();
        if (kind === "queue") this.#queues.get(id)?.notify();
      }),
    );
    this.#cleanup.push(onlineManager.subscribe((online) => {
      if (online) {
        // A new budget for every action after the network returns, and fresh reads of what is shown.
        this.#failingSince.clear();
        this.refetchLive();
        void this.#takeOver();
      } else this.#probe();
      for (const store of [...this.#carts.values(), ...this.#queues.values()]) store.notify();
    }));
    this.#watchAuth();
    if (!onlineManager.isOnline()) this.#probe();

    this.ready = this.#restore();
  }

  async #restore(): Promise<void> {
    const persistOptions = {
      queryClient: this.queryClient,
      persister: this.#persister,
      // A snapshot kept offline for days is still the newest this device has; reads replace it.
      maxAge: Number.POSITIVE_INFINITY,
      buster: BUSTER,
      dehydrateOptions: {
        // Pending actions are outbox records of their own, not part of this one.
        shouldDehydrateMutation: () => false,
        shouldDehydrateQuery: (q: { queryKey: readonly unknown[]; state: { status: string } }) =>
          q.queryKey[0] === "onecart" && (q.queryKey[1] === "cart" || q.queryKey[1] === "queue") &&
          q.state.status === "success",
      },
    };
    try {
      await persistQueryClientRestore(persistOptions);
    } catch (error) {
      console.error("onecart: could not restore the stored state", error);
    }
    this.#cleanup.push(persistQueryClientSubscribe(persistOptions));
    let claimed: Action[] = [];
    try {
      claimed = await this.#outbox.claimOrphans(() => false);
    } catch (error) {
      console.error("onecart: could not read the stored actions", error);
    }
    // The first stored action of each cart may have reached the server before the app closed.
    for (const action of claimed) {
      if (isCartAction(action) && !this.#inFlight.has(action.cartId)) this.#inFlight.set(action.cartId, action.key);
    }
    for (const action of claimed) this.#start(action).catch(noop);
    this.#isReady = true;
    for (const store of [...this.#carts.values(), ...this.#queues.values()]) store.notify();
  }

  /** Sends the actions of clients that are gone (closed, crashed) as this client's own. */
  async #takeOver(): Promise<void> {
    if (!this.#isReady || this.#destroyed) return;
    const mine = new Set(
      this.queryClient.getMutationCache().getAll().map((m) => (m.state.variables as Action | undefined)?.key),
    );
    try {
      const claimed = await this.#outbox.claimOrphans((key) => mine.has(key) || this.#expired.has(key));
      for (const action of claimed) if (!this.#destroyed) this.#start(action).catch(noop);
    } catch (error) {
      console.error("onecart: could not read the stored actions", error);
    }
  }

  /** A new action's key and time: made once, here, and sent with every try of it. */
  stamp(): { key: string; createdAt: number } {
    return { key: this.#options.newKey(), createdAt: Date.now() };
  }

  /** The store of a cart; read once in the background when no snapshot of it is held yet. */
  cart(cartId: string): CartStore {
    let store = this.#carts.get(cartId);
    if (!store) {
      this.#carts.set(cartId, store = new CartStore(cartId, this));
      if (!this.queryClient.getQueryData(CART_KEY(cartId))) {
        // After a restore the stored snapshot comes first; read only if there is none then either.
        void this.ready.then(() => {
          if (!this.queryClient.getQueryData(CART_KEY(cartId))) return this.fetchCart(cartId);
        }).catch(noop);
      }
    }
    return store;
  }

  queue(locationId: string): QueueStore {
    let store = this.#queues.get(locationId);
    if (!store) this.#queues.set(locationId, store = new QueueStore(locationId, this));
    return store;
  }

  /**
   * The open cart of a customer (or a device without one) at a location,
   * created if none is open. Two calls at once make one request. Offline, the
   * open cart this device last saw is returned at once (taps on it wait for
   * the network like any other); only a cart never seen needs the network.
   */
  async openCart(
    args: { locationId: string; customerId?: string | null; deviceId?: string | null },
  ): Promise<CartStore> {
    await this.ready;
    const read = this.#read(
      ["onecart", "read", "open", args.locationId, args.customerId ?? null, args.deviceId ?? null],
      "getOrCreateCart",
      {
        location_id: args.locationId,
        customer_id: args.customerId ?? undefined,
        device_id: args.deviceId ?? undefined,
      },
    ).then((cart) => {
      this.#applyCart(cart as Cart);
      return cart as Cart;
    });
    const held = this.#heldOpenCart(args);
    if (!held) return this.cart((await read).id);
    read.catch(noop);
    // Offline now, or found to be while asking: the held cart, rather than a wait.
    let unsubscribe = noop as () => void;
    const offline = new Promise<void>((resolve) => {
      unsubscribe = onlineManager.subscribe((online) => online || resolve());
      if (!onlineManager.isOnline()) resolve();
    });
    try {
      return this.cart(await Promise.race([read.then((cart) => cart.id), offline.then(() => held.id)]));
    } finally {
      unsubscribe();
    }
  }

  #heldOpenCart(args: { locationId: string; customerId?: string | null; deviceId?: string | null }): Cart | undefined {
    return this.queryClient.getQueryCache().findAll({ queryKey: ["onecart", "cart"] })
      .map((q) => q.state.data as Cart | undefined)
      .find((c) =>
        !!c && (c.status === "active" || c.status === "locked") && c.location_id === args.locationId &&
        (args.customerId
          ? c.customer_id === args.customerId
          : !c.customer_id && c.device_id === (args.deviceId ?? null))
      );
  }

  async listOpenCarts(locationId: string): Promise<Cart[]> {
    const carts = await this.#read(["onecart", "read", "list", locationId], "listOpenCarts", {
      location_id: locationId,
    }) as Cart[];
    for (const cart of carts) this.#applyCart(cart);
    return carts;
  }

  getCartHistory(cartId: string): Promise<CartHistoryEvent[]> {
    return this.#read(["onecart", "read", "history", cartId], "getCartHistory", { cart_id: cartId }) as Promise<
      CartHistoryEvent[]
    >;
  }

  /** @internal */
  async fetchCart(cartId: string): Promise<Cart> {
    const cart = await this.#read(["onecart", "read", "cart", cartId], "getCart", { cart_id: cartId }) as Cart;
    this.#applyCart(cart);
    return this.queryClient.getQueryData<Cart>(CART_KEY(cartId)) ?? cart;
  }

  /** @internal */
  fetchQueue(locationId: string): Promise<QueueSnapshot> {
    return this.#read(["onecart", "read", "queue", locationId], "getQueue", { location_id: locationId })
      .then((q) => normalizeQueue(q) ?? { location_id: locationId, entries: [] });
  }

  /** @internal */
  setQueue(queue: QueueSnapshot): void {
    this.queryClient.setQueryData(QUEUE_KEY(queue.location_id), queue);
  }

  /** @internal A cart broadcast: applied only when newer than the one held; a skipped version is read again. */
  receiveCart(cartId: string, payload: unknown): void {
    if (!isCart(payload) || payload.id !== cartId) return;
    const held = this.#newest(cartId);
    if (held && payload.version <= held.version) return;
    this.#applyCart(payload);
    if (held && payload.version > held.version + 1) this.cart(cartId).refetch().catch(noop);
  }

  /** Reads again every cart and queue followed live: after a reconnect or a new token. */
  refetchLive(): void {
    for (const store of this.#carts.values()) if (store.isLive) store.refetch().catch(noop);
    for (const store of this.#queues.values()) if (store.isLive) store.refetch().catch(noop);
  }

  /** Every pending action of this device, in the order they were made. */
  pending(): PendingAction[] {
    return this.#pendingMutations(() => true);
  }

  onRejected(listener: (rejection: Rejection) => void): () => void {
    this.#rejectionListeners.add(listener);
    return () => this.#rejectionListeners.delete(listener);
  }

  /** Whether the server answered the last time anyone asked; actions pause while it is false. */
  isOnline = (): boolean => onlineManager.isOnline();

  subscribeOnline = (listener: (online: boolean) => void): () => void => onlineManager.subscribe(listener);

  /** How many actions of this device wait for the server. */
  pendingCount = (): number =>
    this.queryClient.getMutationCache().findAll({ mutationKey: ["onecart"], status: "pending" }).length;

  subscribePending = (listener: () => void): () => void =>
    this.queryClient.getMutationCache().subscribe(() => listener());

  /** Resolves once everything asked of storage so far is written. */
  async flush(): Promise<void> {
    await this.ready;
    await Promise.all([this.#persister.flush(), this.#outbox.flush()]);
  }

  /** Actions refused as `expired` that wait for the app to `resend` or `discard` them. */
  expiredActions(): Action[] {
    return [...this.#expired.values()];
  }

  /** Sends an action refused as `expired` after all, with its own key; its rejection is dismissed. */
  resend<T = unknown>(key: string): ActionHandle<T> {
    const action = this.#expired.get(key);
    if (!action) throw new TypeError(`No expired action has the key ${key}.`);
    this.#expired.delete(key);
    this.#storeOf(action)?.dismiss(key);
    return this.enqueue<T>({ ...action, sendExpired: true });
  }

  /** Drops an action refused as `expired`, from storage too: the app has decided it must not apply. */
  async discard(key: string): Promise<void> {
    const action = this.#expired.get(key);
    if (!action) throw new TypeError(`No expired action has the key ${key}.`);
    this.#expired.delete(key);
    this.#storeOf(action)?.dismiss(key);
    await this.#outbox.remove(key);
  }

  /** Stops everything: channels, probes, storage writes. Pending actions stay in storage for the next start. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    for (const stop of this.#cleanup.splice(0)) stop();
    await this.flush().catch(noop);
    // Only now may another client take this one's actions over: they are all in storage.
    await this.#presence.stop().catch(noop);
    await Promise.all([...this.#carts.values(), ...this.#queues.values()].map((store) => store.shutdown()));
    this.queryClient.unmount();
    for (const mutation of this.queryClient.getMutationCache().getAll()) mutation.destroy();
    this.queryClient.getMutationCache().clear();
    this.queryClient.getQueryCache().clear();
  }

  /** @internal A new action: kept in storage, then sent in its cart's (or queue's) turn. */
  enqueue<T>(action: Action): ActionHandle<T> {
    if (!this.#destroyed) void this.#outbox.put(action);
    // Restored actions come first: a tap made before the restore waits for it, to keep the order.
    const done = this.#isReady ? this.#start<T>(action) : this.ready.then(() => this.#start<T>(action));
    done.catch(noop);
    return { key: action.key, action, done };
  }

  #start<T>(action: Action): Promise<T> {
    if (this.#destroyed) {
      return Promise.reject(new OnecartError("network_error", "This onecart client was destroyed."));
    }
    const mutation = this.queryClient.getMutationCache().build(this.queryClient, {
      mutationKey: ["onecart", action.kind],
      scope: { id: scopeOf(action) },
    });
    return mutation.execute(action) as Promise<T>;
  }

  /** @internal */
  async authorizeRealtime(): Promise<void> {
    try {
      // Private channels: the token goes to Realtime before the join.
      await this.supabase.realtime.setAuth();
    } catch {
      // No session yet: the join is refused and retried by Realtime.
    }
  }

  /** @internal */
  computeCartState(cartId: string, rejected: Rejection[], live: LiveStatus): CartState {
    const confirmed = this.queryClient.getQueryData<Cart>(CART_KEY(cartId)) ?? null;
    const pending = this.#pendingMutations((a) => isCartAction(a) && a.cartId === cartId && !this.#answered.has(a.key));
    const cart = confirmed && pending.reduce((view, p) => applyOptimistic(view, p.action as CartAction), confirmed);
    return { cart, confirmed, pending, rejected, live };
  }

  /** @internal */
  computeQueueState(locationId: string, rejected: Rejection[], live: LiveStatus): QueueState {
    return {
      queue: this.queryClient.getQueryData<QueueSnapshot>(QUEUE_KEY(locationId)) ?? null,
      pending: this.#pendingMutations((a) => !isCartAction(a) && a.locationId === locationId),
      rejected,
      live,
    };
  }

  #pendingMutations(filter: (action: Action) => boolean): PendingAction[] {
    const online = onlineManager.isOnline();
    return this.queryClient.getMutationCache().findAll({ mutationKey: ["onecart"], status: "pending" })
      .filter((m) => filter(m.state.variables as Action))
      .map((m) => {
        const running = this.queryClient.getMutationCache().canRun(m);
        return {
          key: (m.state.variables as Action).key,
          kind: (m.state.variables as Action).kind,
          action: m.state.variables as Action,
          status: !running ? "queued" : !online ? "offline" : "sending",
          failureCount: m.state.failureCount,
          lastError: m.state.failureReason ? asOnecartError(m.state.failureReason) : null,
        } satisfies PendingAction;
      });
  }

  /** The newest snapshot of a cart this device has, held back or not. */
  #newest(cartId: string): Cart | undefined {
    const held = this.queryClient.getQueryData<Cart>(CART_KEY(cartId));
    const deferred = this.#deferred.get(cartId);
    return deferred && (!held || deferred.version > held.version) ? deferred : held;
  }

  /**
   * A snapshot from the server replaces the base when it is newer; the pending
   * actions are re-applied on top. While one of them is in flight, a snapshot
   * from elsewhere (a broadcast, a read) may already hold its change, and the
   * screen would show it twice: such a snapshot waits for that action's answer.
   */
  #applyCart(cart: Cart, fromAnswer = false): void {
    if (!fromAnswer && this.#inFlight.has(cart.id)) {
      const deferred = this.#deferred.get(cart.id);
      if (!deferred || cart.version > deferred.version) this.#deferred.set(cart.id, cart);
      return;
    }
    this.#setBase(cart);
  }

  /** An action of the cart has its final answer: the snapshots held back meanwhile apply now. */
  #settle(action: CartAction): void {
    if (this.#inFlight.get(action.cartId) === action.key) this.#inFlight.delete(action.cartId);
    const deferred = this.#deferred.get(action.cartId);
    this.#deferred.delete(action.cartId);
    if (deferred) this.#applyCart(deferred);
  }

  #setBase(cart: Cart): void {
    const key = CART_KEY(cart.id);
    const held = this.queryClient.getQueryData<Cart>(key);
    if (!held || cart.version > held.version) {
      this.queryClient.setQueryData(key, cart);
    } else if (cart.version === held.version && cart.lock?.token && held.lock && !held.lock.token) {
      // The same version seen first as a broadcast: keep the token only our own lock answer carries.
      this.queryClient.setQueryData(key, { ...held, lock: { ...held.lock, token: cart.lock.token } });
    }
  }

  #storeOf(action: Action): CartStore | QueueStore | undefined {
    return isCartAction(action) ? this.#carts.get(action.cartId) : this.#queues.get(action.locationId);
  }

  #confirmed(action: Action, data: unknown): void {
    void this.#outbox.remove(action.key);
    if (this.#destroyed) return;
    this.#failingSince.delete(action.key);
    if (isCartAction(action)) {
      if (isCart(data)) {
        this.#answered.add(action.key);
        this.#applyCart(data, true);
      }
      this.#settle(action);
    }
    if (action.kind === "add_to_queue" && isCart((data as QueueJoin | null)?.cart)) {
      this.#applyCart((data as QueueJoin).cart);
    }
    if (!isCartAction(action)) this.#queues.get(action.locationId)?.refetch().catch(noop);
  }

  #rejected(action: Action, error: unknown): void {
    // A client closing stops its actions; they stay in storage for the next start or another window.
    if (this.#destroyed) return;
    this.#failingSince.delete(action.key);
    if (isCartAction(action)) this.#settle(action);
    const rejection: Rejection = { key: action.key, action, error: asOnecartError(error), at: Date.now() };
    // An expired action waits in storage for the app's decision; any other refusal is final.
    if (rejection.error.code === "expired") this.#expired.set(action.key, action);
    else void this.#outbox.remove(action.key);
    this.#storeOf(action)?.reject(rejection);
    for (const listener of this.#rejectionListeners) listener(rejection);
    // The optimistic view has rolled back; make sure the base under it is the server's current one.
    if (isCartAction(action)) {
      this.cart(action.cartId).refetch().catch(noop);
    } else this.#queues.get(action.locationId)?.refetch().catch(noop);
  }

  /** One try of an action, with its own key. */
  async #run(action: Action): Promise<unknown> {
    if (this.#destroyed) {
      // A retry timer of a client already closed: the next start replays the action from storage.
      throw Object.assign(new OnecartError("network_error", "This onecart client was closed."), { giveUp: true });
    }
    if (!action.sendExpired && Date.now() - action.createdAt > this.#options.maxActionAgeMs) {
      throw Object.assign(
        new OnecartError("expired", "This action waited longer than maxActionAgeMs; resend or discard it.", {
          details: { createdAt: action.createdAt, maxActionAgeMs: this.#options.maxActionAgeMs },
        }),
        { giveUp: true },
      );
    }
    const key = this.#sendKeys ? action.key : undefined;
    if (isCartAction(action)) this.#inFlight.set(action.cartId, action.key);
    try {
      const result = await this.#send(action, key);
      return result;
    } catch (thrown) {
      const error = asOnecartError(thrown);
      if (error.retryable) {
        if (error.code === "network_error") this.#probe();
        const since = this.#failingSince.get(action.key) ?? Date.now();
        this.#failingSince.set(action.key, since);
        if (Date.now() - since >= this.#options.retry.maxElapsedMs) Object.assign(error, { giveUp: true });
      }
      throw error;
    }
  }

  #send(action: Action, idempotencyKey: string | undefined): Promise<unknown> {
    const itemId = action.kind === "set_item_quantity" || action.kind === "remove_item"
      ? this.#itemId(action)
      : undefined;
    return this.#call(operationOf(action.kind), argsOf(action, itemId), { idempotencyKey });
  }

  /**
   * The server's id for a line named by product and options, from the newest
   * confirmed snapshot. Resolved once per action and written into it (and so
   * into storage): a retry must send the request the first try sent, or the
   * server cannot replay its answer, and after a removal the line is gone.
   */
  #itemId(action: SetQuantityAction | RemoveItemAction): string {
    const line = action.line;
    if ("itemId" in line) return line.itemId;
    const cart = this.queryClient.getQueryData<Cart>(CART_KEY(action.cartId));
    const item = cart && findLine(cart, line);
    if (!item) {
      throw new OnecartError("not_found", "That line is no longer in the cart.", { status: 404, details: { line } });
    }
    action.line = { itemId: item.id };
    void this.#outbox.put(action);
    return item.id;
  }

  async #call(method: ApiMethod, args: Record<string, unknown>, options: CallOptions = {}): Promise<unknown> {
    const signal = AbortSignal.timeout(this.#options.requestTimeoutMs);
    return (this.api[method] as (a: unknown, o: CallOptions) => Promise<unknown>)(args, { ...options, signal });
  }

  /** Reads, deduplicated while in flight, retried like actions (no key needed: they change nothing). */
  #read(queryKey: readonly unknown[], method: ApiMethod, args: Record<string, unknown>): Promise<unknown> {
    return this.queryClient.fetchQuery({
      queryKey,
      queryFn: async () => {
        try {
          return await this.#call(method, args);
        } catch (thrown) {
          const error = asOnecartError(thrown);
          if (error.code === "network_error") this.#probe();
          throw error;
        }
      },
      staleTime: 0,
      gcTime: 0,
      networkMode: "online",
      retry: (count, error) => asOnecartError(error).retryable && count < 8,
      retryDelay: (count, error) => this.#backoff(count, error),
    });
  }

  /** Exponential backoff with jitter, never sooner than the server's Retry-After. */
  #backoff(failureCount: number, error: unknown): number {
    const { initialDelayMs, maxDelayMs } = this.#options.retry;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(failureCount, 16));
    const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
    const retryAfter = asOnecartError(error).retryAfterSeconds;
    return Math.max(jittered, retryAfter ? retryAfter * 1000 : 0);
  }

  /**
   * Whether the network is there, asked of the server itself (a browser's
   * online flag says nothing of a shop's router). While it is not, actions
   * pause and keep their place; the first answer resumes them in order.
   */
  #probe(): void {
    if (this.#probing || this.#destroyed) return;
    this.#probing = true;
    void (async () => {
      let delay = 250;
      try {
        while (!this.#destroyed) {
          if (await this.#reachable()) {
            onlineManager.setOnline(true);
            return;
          }
          onlineManager.setOnline(false);
          await sleep(delay);
          delay = Math.min(delay * 2, 2_000);
        }
      } finally {
        this.#probing = false;
      }
    })();
  }

  async #reachable(): Promise<boolean> {
    try {
      await this.api.getCart({ cart_id: NIL_CART }, { signal: AbortSignal.timeout(3_000) });
      return true;
    } catch (error) {
      return asOnecartError(error).code !== "network_error";
    }
  }

  #watchAuth(): void {
    try {
      const { data } = this.supabase.auth.onAuthStateChange((event) => {
        if (event === "TOKEN_REFRESHED" || event === "SIGNED_IN") {
          // A refreshed token reaches Realtime through supabase-js; what was missed meanwhile is read again.
          setTimeout(() => this.refetchLive(), 0);
        }
      });
      this.#cleanup.push(() => data.subscription.unsubscribe());
    } catch {
      // Made with `accessToken` (third-party auth): the app calls refetchLive() when it renews the token.
    }
  }
}

export function createOnecart(options: OnecartOptions): Onecart {
  return new Onecart(options);
}
