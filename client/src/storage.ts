// Where a device keeps its pending actions and last confirmed snapshots
// between runs: any async key-value store. localStorage, React Native's
// AsyncStorage and Capacitor Preferences fit as they are; IndexedDB below.
import type { PersistedClient, Persister } from "@tanstack/query-persist-client-core";

export interface KeyValueStorage {
  getItem(key: string): Promise<string | null> | string | null;
  setItem(key: string, value: string): Promise<unknown> | unknown;
  removeItem(key: string): Promise<unknown> | unknown;
}

/** The default: kept as long as the page or process lives. Share one between two clients to model a restart. */
export function memoryStorage(map: Map<string, string> = new Map()): KeyValueStorage {
  return {
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
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
  };
}

/**
 * TanStack's persister over a key-value store. Writes go one after another
 * in the order they were asked for, so the last state asked for is the one kept.
 */
export function storagePersister(storage: KeyValueStorage, key: string): Persister & { flush(): Promise<void> } {
  let chain: Promise<unknown> = Promise.resolve();
  const enqueue = (write: () => unknown) => {
    chain = chain.then(write).catch((error) => {
      // A full or failing store must not stop the queue; the next write tries again.
      console.error("onecart: could not write to storage", error);
    });
    return chain as Promise<void>;
  };
  return {
    persistClient: (client: PersistedClient) => {
      // Taken now, written in turn: a later state never lands before an earlier one.
      const text = JSON.stringify(client);
      return enqueue(() => storage.setItem(key, text));
    },
    restoreClient: async () => {
      const text = await storage.getItem(key);
      return text ? (JSON.parse(text) as PersistedClient) : undefined;
    },
    removeClient: () => enqueue(() => storage.removeItem(key)),
    flush: () => chain.then(() => undefined),
  };
}
