// Which clients sharing one storage and key are still running, and one
// critical section among them. Web Locks where the platform has them (every
// browser; Node 24 within a process): a client holds a lock named after
// itself for as long as it lives, so it is gone the moment its window closes
// or crashes. Elsewhere (React Native, processes sharing a file), a lease
// record in the storage that the client renews and that lapses when it stops.
import type { KeyValueStorage } from "./storage.ts";

export type Coordination = "web-locks" | "lease";

export interface Presence {
  /** Whether the client `id` still runs. */
  isAlive(id: string): Promise<boolean>;
  /** Runs `body` while no other client of this storage and key runs its own. */
  exclusive<T>(body: () => Promise<T>): Promise<T>;
  /** Says this client is gone; its actions may be taken over at once. */
  stop(): Promise<void>;
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
  query(): Promise<{ held?: Array<{ name?: string }> }>;
}

export function webLocks(): LockManagerLike | undefined {
  return (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
}

export function defaultCoordination(): Coordination {
  return webLocks() ? "web-locks" : "lease";
}

/** Per storage and key, the last critical section of the lease clients in this process. */
const leaseSections = new WeakMap<KeyValueStorage, Map<string, Promise<unknown>>>();

export function startPresence(options: {
  coordination: Coordination;
  storage: KeyValueStorage;
  storageKey: string;
  clientId: string;
  leaseMs: number;
}): Presence {
  const { storageKey, clientId } = options;
  const lockName = (id: string) => `onecart:${storageKey}:client:${id}`;
  const mutex = `onecart:${storageKey}:outbox`;
  if (options.coordination === "web-locks") {
    const locks = webLocks();
    if (!locks) throw new TypeError('This platform has no Web Locks (navigator.locks); use coordination: "lease".');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const granted = new Promise<void>((resolve) => {
      void locks.request(lockName(clientId), () => {
        resolve();
        return held;
      });
    });
    return {
      async isAlive(id) {
        await granted;
        const { held: all = [] } = await locks.query();
        return all.some((lock) => lock.name === lockName(id));
      },
      exclusive: (body) => locks.request(mutex, body),
      async stop() {
        release();
      },
    };
  }

  // A lease: written at start and renewed at a third of its length, so one
  // missed renewal does not make a running client look gone.
  const { storage, leaseMs } = options;
  const leaseKey = (id: string) => `${storageKey}/client/${id}`;
  const renew = () => storage.setItem(leaseKey(clientId), JSON.stringify({ expiresAt: Date.now() + leaseMs }));
  let written = Promise.resolve(renew()).catch(() => undefined);
  const timer = setInterval(() => {
    written = Promise.resolve(renew()).catch(() => undefined);
  }, Math.max(50, leaseMs / 3));
  // Only one section at a time within this process, among all its clients
  // of this storage and key; across processes the idempotency keys make a
  // rare double send harmless (the server replays).
  let sections = leaseSections.get(storage);
  if (!sections) leaseSections.set(storage, sections = new Map());
  return {
    async isAlive(id) {
      await written;
      if (id === clientId) return true;
      const text = await storage.getItem(leaseKey(id));
      if (!text) return false;
      try {
        return (JSON.parse(text) as { expiresAt: number }).expiresAt > Date.now();
      } catch {
        return false;
      }
    },
    exclusive(body) {
      const run = (sections.get(mutex) ?? Promise.resolve()).then(body);
      sections.set(mutex, run.catch(() => undefined));
      return run;
    },
    async stop() {
      clearInterval(timer);
      await written;
      await storage.removeItem(leaseKey(clientId));
    },
  };
}
