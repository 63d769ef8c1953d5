// Where a device keeps its pending actions and last confirmed snapshots
// between runs: any async key-value store. localStorage, React Native's
// AsyncStorage and Capacitor Preferences fit as they are; IndexedDB below.
import type { PersistedClient, Persister } from "@tanstack/query-persist-client-core";
import type { Action } from "./actions.ts";

export interface KeyValueStorage {
  getItem(key: string): Promise<string | null> | string | null;
  setItem(key: string, value: string): Promise<unknown> | unknown;
  removeItem(key: string): Promise<unknown> | unknown;
  /**
   * Every key that starts with `prefix`. Optional: without it the outbox keeps
   * a shared index record, changed one client at a time (Web Locks, or within
   * one process), which two processes without a common lock could both write.
   * AsyncStorage's `getAllKeys()` and localStorage's `key(i)` give it.
   */
  keys?(prefix: string): Promise<string[]> | string[];
}

/** The default: kept as long as the page or process lives. Share one between two clients to model a restart. */
export function memoryStorage(map: Map<string, string> = new Map()): KeyValueStorage {
  return {
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
    keys: (prefix) => [...map.keys()].filter((key) => key.startsWith(prefix)),
  };
}

/** IndexedDB, for web apps: survives reloads and is not capped like localStorage. */
export function indexedDbStorage(databaseName = "onecart", storeName = "kv"): KeyValueStorage {
  let opened: Promise<IDBDatabase> | undefined;
  const open = () =>
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(databaseName, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(storeName);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  const run = async <T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await open();
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction(storeName, mode);
      const request = op(tx.objectStore(storeName));
      // Resolve when the transaction is durable, not when the request returns.
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
  return {
    getItem: async (key) => ((await run("readonly", (s) => s.get(key))) as string | undefined) ?? null,
    setItem: (key, value) => run("readwrite", (s) => s.put(value, key)),
    removeItem: (key) => run("readwrite", (s) => s.delete(key)),
    keys: async (
      prefix,
    ) => ((await run("readonly", (s) => s.getAllKeys(IDBKeyRange.bound(prefix, `${prefix}\uffff`)))) as string[]),
  };
}

/**
 * The version of the snapshot record. 1 (library 0.1): TanStack's persisted
 * client with buster "onecart-1", pending actions inside as paused mutations.
 * 2: the same without mutations (they are outbox records of their own), and
 * this field. The buster no longer changes: TanStack drops a record whose
 * buster differs, and a stored action must never be dropped.
 */
export const SNAPSHOT_FORMAT = 2;
export const BUSTER = "onecart";

/** What an older library stored, read as this one stores it; the pending actions it held, handed back. */
export function migrateStored(stored: unknown): { client?: PersistedClient; actions: Action[]; newer: boolean } {
  const record = stored as (PersistedClient & { format?: number }) | null;
  if (!record || typeof record !== "object" || !record.clientState) return { actions: [], newer: false };
  const format = record.format ?? 1;
  if (format > SNAPSHOT_FORMAT) return { actions: [], newer: true };
  const actions = (record.clientState.mutations ?? [])
    .filter((m) => m.state?.status === "pending" && m.state.variables)
    .map((m) => m.state.variables as Action);
  return {
    client: {
      ...record,
      format: SNAPSHOT_FORMAT,
      buster: BUSTER,
      clientState: { ...record.clientState, mutations: [] },
    } as PersistedClient,
    actions,
    newer: false,
  };
}

/**
 * TanStack's persister of the confirmed snapshots over a key-value store.
 * Writes go one after another in the order they were asked for, so the last
 * state asked for is the one kept. A record of a newer format than this
 * library knows is neither read nor overwritten.
 */
export function storagePersister(
  storage: KeyValueStorage,
  key: string,
  onActions: (actions: Action[]) => Promise<void>,
): Persister & { flush(): Promise<void> } {
  let chain: Promise<unknown> = Promise.resolve();
  /** Leave the stored record as it is: of a newer format, or the only copy of actions not yet migrated. */
  let newer = false;
  const enqueue = (write: () => unknown) => {
    chain = chain.then(write).catch((error) => {
      // A full or failing store must not stop the queue; the next write tries again.
      console.error("onecart: could not write to storage", error);
    });
    return chain as Promise<void>;
  };
  return {
    persistClient: (client: PersistedClient) => {
      if (newer) return Promise.resolve();
      // Taken now, written in turn: a later state never lands before an earlier one.
      const text = JSON.stringify({ ...client, format: SNAPSHOT_FORMAT });
      return enqueue(() => storage.setItem(key, text));
    },
    restoreClient: async () => {
      const text = await storage.getItem(key);
      let stored: unknown = null;
      try {
        stored = text ? JSON.parse(text) : null;
      } catch {
        console.error("onecart: the stored snapshots are not JSON; starting without them");
      }
      const migrated = migrateStored(stored);
      newer = migrated.newer;
      if (newer) console.error("onecart: storage holds a newer format than this library; it is left as it is");
      // The actions first: once they are outbox records, rewriting this record cannot lose them.
      if (migrated.actions.length) {
        try {
          await onActions(migrated.actions);
        } catch (error) {
          // Not kept elsewhere yet: this record is their only copy, left as it is for the next start.
          console.error(
            "onecart: could not keep the stored actions; the older record is left for the next start",
            error,
          );
          newer = true;
        }
      }
      return migrated.client;
    },
    removeClient: () => newer ? Promise.resolve() : enqueue(() => storage.removeItem(key)),
    flush: () => chain.then(() => undefined),
  };
}
