// The durable outbox: one storage record per pending action, owned by the
// client that sends it. Many clients can share one storage and key (two
// windows of a web till, two processes of a desktop app): each writes only
// its own records, so none overwrites another's, and the actions of a client
// that is gone are claimed, once, by one that runs. The same shape as
// Replicache's mutation recovery within a client group, and TanStack DB's
// durable outbox with Web Locks.
import type { Action } from "./actions.ts";
import type { Presence } from "./presence.ts";
import type { KeyValueStorage } from "./storage.ts";

/** The version of the outbox's records; a newer library reads every older one. */
export const OUTBOX_FORMAT = 2;

export interface OutboxRecord {
  format: number;
  /** The client sending it; "" for an action no running client owns (migrated from an older format). */
  owner: string;
  /**
   * Where the action stands among its owner's, increasing in the order they
   * were made. Claims replay in this order: not the storage's key order
   * (IndexedDB sorts keys) nor `createdAt` alone (two taps share a
   * millisecond, a clock steps back). Absent in 1.2.0's records: `createdAt`.
   */
  seq?: number;
  action: Action;
}

export class Outbox {
  readonly #storage: KeyValueStorage;
  readonly #prefix: string;
  readonly #index: string;
  readonly #presence: Presence;
  readonly #clientId: string;
  /** Writes in the order they were asked for: a removal never lands before its add. */
  #chain: Promise<unknown> = Promise.resolve();
  /** Each action's place (`seq`), fixed when this client first keeps or claims it. */
  #seqs = new Map<string, number>();
  #lastSeq = 0;

  constructor(options: { storage: KeyValueStorage; storageKey: string; presence: Presence; clientId: string }) {
    this.#storage = options.storage;
    this.#prefix = `${options.storageKey}/action/`;
    this.#index = `${options.storageKey}/actions`;
    this.#presence = options.presence;
    this.#clientId = options.clientId;
  }

  /** Close to the clock, so clients' places compare as their taps' times do, but never going back. */
  #seqOf(key: string, fresh = false): number {
    let seq = fresh ? undefined : this.#seqs.get(key);
    if (seq === undefined) {
      seq = this.#lastSeq = Math.max(Date.now(), this.#lastSeq + 1);
      this.#seqs.set(key, seq);
    }
    return seq;
  }

  #enqueue(write: () => Promise<unknown> | unknown): Promise<void> {
    const run = this.#chain.then(write);
    this.#chain = run.catch((error) => {
      // A full or failing store must not stop the queue; the next write tries again.
      console.error("onecart: could not write to storage", error);
    });
    return this.#chain as Promise<void>;
  }

  /** Keeps (or rewrites) an action of this client. */
  put(action: Action): Promise<void> {
    const record: OutboxRecord = { format: OUTBOX_FORMAT, owner: this.#clientId, seq: this.#seqOf(action.key), action };
    const text = JSON.stringify(record);
    return this.#enqueue(async () => {
      await this.#storage.setItem(this.#prefix + action.key, text);
      if (!this.#storage.keys) await this.#presence.exclusive(() => this.#editIndex((keys) => keys.add(action.key)));
    });
  }

  /** Forgets an action answered for good. */
  remove(key: string): Promise<void> {
    this.#seqs.delete(key);
    return this.#enqueue(async () => {
      await this.#storage.removeItem(this.#prefix + key);
      if (!this.#storage.keys) await this.#presence.exclusive(() => this.#editIndex((keys) => keys.delete(key)));
    });
  }

  /** Keeps actions no running client owns (from an older stored format), unless they are kept already. */
  adopt(actions: Action[]): Promise<void> {
    // Unlike put and remove, a failure reaches the caller: the older record holding these must then stay.
    const run = this.#chain.then(() =>
      this.#presence.exclusive(async () => {
        for (const action of actions) {
          if (await this.#storage.getItem(this.#prefix + action.key)) continue;
          const record: OutboxRecord = { format: OUTBOX_FORMAT, owner: "", seq: this.#seqOf(action.key), action };
          await this.#storage.setItem(this.#prefix + action.key, JSON.stringify(record));
        }
        if (!this.#storage.keys) await this.#editIndex((keys) => actions.forEach((a) => keys.add(a.key)));
      })
    );
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Makes this client the owner of every action whose owner is gone, and
   * returns them oldest first. One client claims at a time, so each action
   * gets one new owner.
   */
  claimOrphans(skip: (key: string) => boolean): Promise<Action[]> {
    return this.#enqueue(() => undefined).then(() =>
      this.#presence.exclusive(async () => {
        const orphans: OutboxRecord[] = [];
        const owners = new Map<string, boolean>();
        for (const key of await this.#keys()) {
          if (skip(key)) continue;
          const record = await this.#read(key);
          // A record of a newer format is left for the library that wrote it.
          if (!record || record.format > OUTBOX_FORMAT || record.owner === this.#clientId) continue;
          let alive = record.owner !== "" && owners.get(record.owner);
          if (alive === undefined) {
            alive = await this.#presence.isAlive(record.owner);
            owners.set(record.owner, alive);
          }
          if (alive) continue;
          orphans.push(record);
        }
        const place = (r: OutboxRecord) => r.seq ?? r.action.createdAt;
        orphans.sort((a, b) => place(a) - place(b));
        // Places of this client's own, in the same order: the next claimant replays them so too.
        const claimed: Action[] = [];
        for (const record of orphans) {
          const seq = this.#seqOf(record.action.key, true);
          try {
            await this.#storage.setItem(
              this.#prefix + record.action.key,
              JSON.stringify({ ...record, format: OUTBOX_FORMAT, owner: this.#clientId, seq } satisfies OutboxRecord),
            );
          } catch (error) {
            // Those written are this client's now and must be sent by it; the rest wait, in order, for the next scan.
            console.error("onecart: could not claim a stored action", error);
            break;
          }
          claimed.push(record.action);
        }
        return claimed;
      })
    );
  }

  /** Resolves once every write asked for so far has landed. */
  flush(): Promise<void> {
    return this.#chain.then(() => undefined);
  }

  async #read(key: string): Promise<OutboxRecord | null> {
    const text = await this.#storage.getItem(this.#prefix + key);
    if (!text) return null;
    try {
      return JSON.parse(text) as OutboxRecord;
    } catch {
      return null;
    }
  }

  async #keys(): Promise<string[]> {
    if (this.#storage.keys) {
      return (await this.#storage.keys(this.#prefix)).map((k) => k.slice(this.#prefix.length));
    }
    return [...await this.#readIndex()];
  }

  async #readIndex(): Promise<Set<string>> {
    const text = await this.#storage.getItem(this.#index);
    try {
      return new Set(text ? (JSON.parse(text) as string[]) : []);
    } catch {
      return new Set();
    }
  }

  /** Without `keys()`, one shared index record, only ever changed inside `exclusive`. */
  async #editIndex(edit: (keys: Set<string>) => void): Promise<void> {
    const keys = await this.#readIndex();
    edit(keys);
    await this.#storage.setItem(this.#index, JSON.stringify([...keys]));
  }
}
