// The onecart client: every tap becomes an action with its own idempotency
// key, kept in the durable outbox, queued per cart (TanStack mutation scopes),
// retried with backoff (TanStack's retryer) and paused while offline
// (TanStack's onlineManager). What is onecart's own: the key's life, the
// outbox shared by clients on one storage, the rebase of pending actions over
// confirmed snapshots (rebase.ts), rejections with their codes, the age limit,
// and when to read a cart again. This file wires them and dispatches actions.
import type { SupabaseClient } from "@supabase/supabase-js";
import { MutationCache, QueryClient } from "@tanstack/query-core";
import { persistQueryClientRestore, persistQueryClientSubscribe } from "@tanstack/query-persist-client-core";
import {
  type Action,
  argsOf,
  type CartAction,
  findLine,
  isCartAction,
  type RemoveItemAction,
  scopeOf,
  type SetQuantityAction,
} from "./actions.ts";
import { type ApiMethod, type CallOptions, createApi, type OnecartApi } from "./api.ts";
import { backoff } from "./backoff.ts";
import { CartStore } from "./cart-store.ts";
import { Connectivity } from "./connectivity.ts";
import { operationOf } from "./contract.ts";
import { asOnecartError, OnecartError } from "./errors.ts";
import { randomKey } from "./keys.ts";
import type { OnecartOptions } from "./options.ts";
import { Outbox } from "./outbox.ts";
import { defaultCoordination, type Presence, startPresence } from "./presence.ts";
import { QueueStore } from "./queue-store.ts";
import { createCaller } from "./transport.ts";
import { CartBase } from "./rebase.ts";
import { isCart, normalizeQueue, QUEUE_KEY } from "./snapshots.ts";
import type { ActionHandle, CartState, LiveStatus, PendingAction, QueueState, Rejection } from "./state.ts";
import { BUSTER, memoryStorage, storagePersister } from "./storage.ts";
import type { StoreHost } from "./store-host.ts";
import type { Cart, CartHistoryEvent, QueueJoin, QueueSnapshot } from "./types.ts";

export { CartStore } from "./cart-store.ts";
export { QueueStore } from "./queue-store.ts";
export type { OnecartOptions } from "./options.ts";
export type { ActionHandle, CartState, LiveStatus, PendingAction, QueueState, Rejection } from "./state.ts";

const NIL_CART = "00000000-0000-4000-8000-000000000000";
const noop = () => {};

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
  #base: CartBase;
  #connectivity: Connectivity;
  #persister: ReturnType<typeof storagePersister>;
  #outbox: Outbox;
  #presence: Presence;
  /** Actions refused for their age, kept in storage until the app resends or discards them. */
  #expired = new Map<string, Rejection>();
  /** What the stores may ask of this client. */
  #host: StoreHost;
  #cleanup: Array<() => void> = [];
  #usedRealtime = false;
  #destroyed = false;
  /** Signed out: nothing is followed live or read again until someone signs in. */
  #signedOut = false;
  /** Whether supabase-js tells this client of sign-ins (not with third-party `accessToken` auth). */
  #watchingAuth = false;
  /** Resolved at the next sign-in or token refresh. */
  #signInWaiters = new Set<() => void>();
  /** Actions refused `not_authenticated` while no one was signed in, waiting for a session. */
  #awaitingSession = new Set<string>();
  /** Actions already sent once more after a `not_authenticated` answered while a session existed. */
  #resentWithSession = new Set<string>();
  #isReady = false;
  /** Rejects when the client is destroyed: every handle still waiting settles then, none hangs. */
  #closed: Promise<never>;
  #close!: () => void;

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
    // Every action, new or taken from storage, runs through these: the
    // function and retry policy are not stored with it.
    this.queryClient.setMutationDefaults(["onecart"], {
      mutationFn: (variables) => this.#run(variables as unknown as Action),
      retry: (_count, error) => asOnecartError(error).retryable && !(error as { giveUp?: boolean }).giveUp,
      retryDelay: (count, error) => backoff(count, error, this.#options.retry),
      networkMode: "online",
      // A settled action is forgotten at once: its answer went to its handle and its store.
      gcTime: 0,
    });
    this.queryClient.mount();
    this.#base = new CartBase(this.queryClient);
    this.#connectivity = new Connectivity(() => this.#reachable());
    this.#host = {
      supabase: this.supabase,
      authorizeRealtime: () => this.#authorizeRealtime(),
      act: <T>(draft: Parameters<StoreHost["act"]>[0]) => this.#enqueue<T>({ ...draft, ...this.#stamp() } as Action),
      newKey: () => this.#options.newKey(),
      cartState: (cartId, rejected, live) => this.#cartState(cartId, rejected, live),
      queueState: (locationId, rejected, live) => this.#queueState(locationId, rejected, live),
      fetchCart: (cartId) => this.#fetchCart(cartId),
      receiveCart: (cartId, payload) => this.receiveCart(cartId, payload),
      fetchQueue: (locationId) => this.#fetchQueue(locationId),
      setQueue: (queue) => void this.queryClient.setQueryData(QUEUE_KEY(queue.location_id), queue),
    };

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
      if (event.mutation!.state.status !== "pending") this.#base.answered.delete(action.key);
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
    this.#cleanup.push(this.#connectivity.subscribe((online) => {
      if (online) {
        // A new budget for every action after the network returns, and fresh reads of what is shown.
        this.#failingSince.clear();
        this.refetchLive();
        void this.#takeOver();
      } else this.#connectivity.probe();
      for (const store of [...this.#carts.values(), ...this.#queues.values()]) store.notify();
    }));
    this.#cleanup.push(() => this.#connectivity.stop());
    this.#watchAuth();
    if (!this.#connectivity.isOnline()) this.#connectivity.probe();

    this.#closed = new Promise<never>((_, reject) => {
      this.#close = () =>
        reject(new OnecartError("network_error", "This onecart client was destroyed; the action stays in storage."));
    });
    this.#closed.catch(noop);
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
      if (isCartAction(action) && !this.#base.inFlight.has(action.cartId)) {
        this.#base.inFlight.set(action.cartId, action.key);
      }
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
  #stamp(): { key: string; createdAt: number } {
    return { key: this.#options.newKey(), createdAt: Date.now() };
  }

  /** The store of a cart; read once in the background when no snapshot of it is held yet. */
  cart(cartId: string): CartStore {
    let store = this.#carts.get(cartId);
    if (!store) {
      this.#carts.set(cartId, store = new CartStore(cartId, this.#host));
      if (this.#signedOut) store.suspendLive().catch(noop);
      this.#showExpired(store, (a) => isCartAction(a) && a.cartId === cartId);
      if (!this.#base.confirmed(cartId)) {
        // After a restore the stored snapshot comes first; read only if there is none then either.
        void this.ready.then(() => {
          if (!this.#base.confirmed(cartId)) return this.#fetchCart(cartId);
        }).catch(noop);
      }
    }
    return store;
  }

  queue(locationId: string): QueueStore {
    let store = this.#queues.get(locationId);
    if (!store) {
      this.#queues.set(locationId, store = new QueueStore(locationId, this.#host));
      if (this.#signedOut) store.suspendLive().catch(noop);
      this.#showExpired(store, (a) => !isCartAction(a) && a.locationId === locationId);
    }
    return store;
  }

  /** A store made after its actions expired (taken from storage at start) shows them too. */
  #showExpired(store: CartStore | QueueStore, mine: (action: Action) => boolean): void {
    for (const rejection of this.#expired.values()) if (mine(rejection.action)) store.reject(rejection);
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
      this.#base.apply(cart as Cart);
      return cart as Cart;
    });
    const held = this.#heldOpenCart(args);
    if (!held) return this.cart((await read).id);
    read.catch(noop);
    // Offline now, or found to be while asking: the held cart, rather than a wait.
    let unsubscribe = noop as () => void;
    const offline = new Promise<void>((resolve) => {
      unsubscribe = this.#connectivity.subscribe((online) => online || resolve());
      if (!this.#connectivity.isOnline()) resolve();
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
    for (const cart of carts) this.#base.apply(cart);
    return carts;
  }

  getCartHistory(cartId: string): Promise<CartHistoryEvent[]> {
    return this.#read(["onecart", "read", "history", cartId], "getCartHistory", { cart_id: cartId }) as Promise<
      CartHistoryEvent[]
    >;
  }

  async #fetchCart(cartId: string): Promise<Cart> {
    const cart = await this.#read(["onecart", "read", "cart", cartId], "getCart", { cart_id: cartId }) as Cart;
    this.#base.apply(cart);
    return this.#base.confirmed(cartId) ?? cart;
  }

  #fetchQueue(locationId: string): Promise<QueueSnapshot> {
    return this.#read(["onecart", "read", "queue", locationId], "getQueue", { location_id: locationId })
      .then((q) => normalizeQueue(q) ?? { location_id: locationId, entries: [] });
  }

  /**
   * A cart snapshot from a broadcast (the stores' live channels call this; an
   * app relaying broadcasts may too): applied only when newer than the one
   * held; a skipped version is read again.
   */
  receiveCart(cartId: string, payload: unknown): void {
    if (this.#base.receive(cartId, payload)) this.cart(cartId).refetch().catch(noop);
  }

  /** Reads again every cart and queue followed live: after a reconnect or a new token. */
  refetchLive(): void {
    if (this.#signedOut) return;
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
  isOnline = (): boolean => this.#connectivity.isOnline();

  subscribeOnline = (listener: (online: boolean) => void): () => void => this.#connectivity.subscribe(listener);

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
    return [...this.#expired.values()].map((r) => r.action);
  }

  /** Sends an action refused as `expired` after all, with its own key; its rejection is dismissed. */
  resend<T = unknown>(key: string): ActionHandle<T> {
    const action = this.#expired.get(key)?.action;
    if (!action) throw new TypeError(`No expired action has the key ${key}.`);
    this.#expired.delete(key);
    this.#storeOf(action)?.dismiss(key);
    return this.#enqueue<T>({ ...action, sendExpired: true });
  }

  /** Drops an action refused as `expired`, from storage too: the app has decided it must not apply. */
  async discard(key: string): Promise<void> {
    const action = this.#expired.get(key)?.action;
    if (!action) throw new TypeError(`No expired action has the key ${key}.`);
    this.#expired.delete(key);
    this.#storeOf(action)?.dismiss(key);
    await this.#outbox.remove(key);
  }

  /**
   * Stops everything: channels, probes, timers, storage writes; nothing is
   * left running. Pending actions stay in storage for the next start, or for
   * another client on the same storage to take over.
   */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    this.#close();
    for (const stop of this.#cleanup.splice(0)) stop();
    await this.flush().catch(noop);
    // Only now may another client take this one's actions over: they are all in storage.
    await this.#presence.stop().catch(noop);
    await Promise.all([...this.#carts.values(), ...this.#queues.values()].map((store) => store.shutdown()));
    // Realtime keeps its socket (and heartbeat) a while after the last channel; if the
    // channels were ours alone, close it now, or a script's process lives on for a minute.
    if (this.#usedRealtime && this.supabase.getChannels().length === 0) await this.supabase.realtime.disconnect();
    this.queryClient.unmount();
    for (const mutation of this.queryClient.getMutationCache().getAll()) mutation.destroy();
    this.queryClient.getMutationCache().clear();
    this.queryClient.getQueryCache().clear();
  }

  /** A new action: kept in storage, then sent in its cart's (or queue's) turn. */
  #enqueue<T>(action: Action): ActionHandle<T> {
    if (!this.#destroyed) void this.#outbox.put(action);
    // Restored actions come first: a tap made before the restore waits for it, to keep the order.
    const started = this.#isReady ? this.#start<T>(action) : this.ready.then(() => this.#start<T>(action));
    started.catch(noop);
    const done = Promise.race([started, this.#closed]);
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

  async #authorizeRealtime(): Promise<void> {
    this.#usedRealtime = true;
    try {
      // Private channels: the token goes to Realtime before the join.
      await this.supabase.realtime.setAuth();
    } catch {
      // No session yet: the join is refused and retried by Realtime.
    }
  }

  #cartState(cartId: string, rejected: Rejection[], live: LiveStatus): CartState {
    const confirmed = this.#base.confirmed(cartId) ?? null;
    const pending = this.#pendingMutations((a) =>
      isCartAction(a) && a.cartId === cartId && !this.#base.answered.has(a.key)
    );
    const cart = this.#base.view(confirmed, pending.map((p) => p.action as CartAction));
    return { cart, confirmed, pending, rejected, live };
  }

  #queueState(locationId: string, rejected: Rejection[], live: LiveStatus): QueueState {
    return {
      queue: this.queryClient.getQueryData<QueueSnapshot>(QUEUE_KEY(locationId)) ?? null,
      pending: this.#pendingMutations((a) => !isCartAction(a) && a.locationId === locationId),
      rejected,
      live,
    };
  }

  #pendingMutations(filter: (action: Action) => boolean): PendingAction[] {
    const online = this.#connectivity.isOnline();
    return this.queryClient.getMutationCache().findAll({ mutationKey: ["onecart"], status: "pending" })
      .filter((m) => filter(m.state.variables as Action))
      .map((m) => {
        const running = this.queryClient.getMutationCache().canRun(m);
        return {
          key: (m.state.variables as Action).key,
          kind: (m.state.variables as Action).kind,
          action: m.state.variables as Action,
          status: !running
            ? "queued"
            : this.#awaitingSession.has((m.state.variables as Action).key)
            ? "signed_out"
            : !online
            ? "offline"
            : "sending",
          failureCount: m.state.failureCount,
          lastError: m.state.failureReason ? asOnecartError(m.state.failureReason) : null,
        } satisfies PendingAction;
      });
  }

  #storeOf(action: Action): CartStore | QueueStore | undefined {
    return isCartAction(action) ? this.#carts.get(action.cartId) : this.#queues.get(action.locationId);
  }

  #confirmed(action: Action, data: unknown): void {
    void this.#outbox.remove(action.key);
    if (this.#destroyed) return;
    this.#failingSince.delete(action.key);
    this.#resentWithSession.delete(action.key);
    if (isCartAction(action)) this.#base.answer(action, data);
    if (action.kind === "add_to_queue" && isCart((data as QueueJoin | null)?.cart)) {
      this.#base.apply((data as QueueJoin).cart);
    }
    if (!isCartAction(action)) this.#queues.get(action.locationId)?.refetch().catch(noop);
  }

  #rejected(action: Action, error: unknown): void {
    // A client closing stops its actions; they stay in storage for the next start or another window.
    if (this.#destroyed) return;
    this.#failingSince.delete(action.key);
    this.#resentWithSession.delete(action.key);
    if (isCartAction(action)) this.#base.settle(action);
    const rejection: Rejection = { key: action.key, action, error: asOnecartError(error), at: Date.now() };
    // An expired action waits in storage for the app's decision; any other refusal is final.
    if (rejection.error.code === "expired") this.#expired.set(action.key, rejection);
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
    if (isCartAction(action)) this.#base.inFlight.set(action.cartId, action.key);
    try {
      const itemId = action.kind === "set_item_quantity" || action.kind === "remove_item"
        ? this.#itemId(action)
        : undefined;
      return await this.#call(operationOf(action.kind), argsOf(action, itemId), { idempotencyKey: key });
    } catch (thrown) {
      const error = asOnecartError(thrown);
      if (error.code === "not_authenticated" && await this.#waitForSession(action)) return this.#run(action);
      if (error.retryable) {
        if (error.code === "network_error") this.#connectivity.probe();
        const since = this.#failingSince.get(action.key) ?? Date.now();
        this.#failingSince.set(action.key, since);
        if (Date.now() - since >= this.#options.retry.maxElapsedMs) Object.assign(error, { giveUp: true });
      }
      throw error;
    }
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
    const cart = this.#base.confirmed(action.cartId);
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
          if (error.code === "network_error") this.#connectivity.probe();
          throw error;
        }
      },
      staleTime: 0,
      gcTime: 0,
      networkMode: "online",
      retry: (count, error) => asOnecartError(error).retryable && count < 8,
      retryDelay: (count, error) => backoff(count, error, this.#options.retry),
    });
  }

  /**
   * Any answer from onecart means the network is there. The probe reads a cart
   * this device holds, which answers 200: a browser logs every 4xx to its
   * console, and a till's console should show only what needs a look. Only a
   * device that holds no cart yet asks for the nil cart, which answers 404.
   */
  async #reachable(): Promise<boolean> {
    const held = this.queryClient.getQueryCache().findAll({ queryKey: ["onecart", "cart"] })
      .map((q) => q.state.data as Cart | undefined).find((cart) => !!cart);
    try {
      await this.api.getCart({ cart_id: held?.id ?? NIL_CART }, { signal: AbortSignal.timeout(3_000) });
      return true;
    } catch (error) {
      return asOnecartError(error).code !== "network_error";
    }
  }

  /**
   * A tap refused because no one is signed in (a till signed out, a session
   * revoked while offline) is the shop's tap still: it keeps its place and its
   * key, and is sent again once someone signs in, rather than dropped. Refused
   * while a session exists, it may have gone with a token that had expired
   * (the refresh failed while the network was down): it is sent once more with
   * the session's token, and refused again it is an answer like any other.
   * Resolves false when the action should be rejected.
   */
  async #waitForSession(action: Action): Promise<boolean> {
    if (!this.#watchingAuth || this.#destroyed) return false;
    let signedIn!: () => void;
    const next = new Promise<void>((resolve) => this.#signInWaiters.add(signedIn = resolve));
    try {
      const { data } = await this.supabase.auth.getSession();
      if (data.session) {
        if (this.#resentWithSession.has(action.key)) return false;
        this.#resentWithSession.add(action.key);
        return true;
      }
      this.#awaitingSession.add(action.key);
      this.#storeOf(action)?.notify();
      await Promise.race([next, this.#closed]);
      return !this.#destroyed;
    } catch {
      return false;
    } finally {
      this.#signInWaiters.delete(signedIn);
      if (this.#awaitingSession.delete(action.key)) this.#storeOf(action)?.notify();
    }
  }

  #watchAuth(): void {
    try {
      const { data } = this.supabase.auth.onAuthStateChange((event) => {
        const stores = () => [...this.#carts.values(), ...this.#queues.values()];
        if (event === "SIGNED_OUT") {
          // Realtime ignores the key supabase-js pushes on sign-out: left
          // joined, the channels would go on delivering to a signed-out till.
          this.#signedOut = true;
          for (const store of stores()) store.suspendLive().catch(noop);
          return;
        }
        if (event === "SIGNED_IN" && this.#signedOut) {
          this.#signedOut = false;
          for (const store of stores()) store.resumeLive();
        }
        if (event === "TOKEN_REFRESHED" || event === "SIGNED_IN") {
          // A refreshed token reaches Realtime through supabase-js; what was missed meanwhile is read again.
          setTimeout(() => this.refetchLive(), 0);
          for (const resume of [...this.#signInWaiters]) resume();
        }
      });
      this.#watchingAuth = true;
      this.#cleanup.push(() => data.subscription.unsubscribe());
    } catch {
      // Made with `accessToken` (third-party auth): the app calls refetchLive() when it renews the token.
    }
  }
}

export function createOnecart(options: OnecartOptions): Onecart {
  return new Onecart(options);
}
