// Admission to the database pool. postgres.js queues a query without limit when
// every connection is busy, so a cart held for 30 s would let its waiting
// requests take every connection and every other store's requests would queue
// behind them. The gate hands out at most `size` connections (the pool's size),
// at most `perTarget` of them to requests for one cart or one location, waits
// at most until a request's deadline, and forgets a request whose client has gone
// before it ever reaches the database.

/** The request waited past its deadline for a connection. */
export class GateTimeout extends Error {
  constructor(readonly heldBy: "target" | "pool") {
    super(`no database connection became free in time (${heldBy})`);
  }
}

/** The client closed its request before it was sent to the database. */
export class ClientGone extends Error {
  constructor() {
    super("the client went away before the request reached the database");
  }
}

export type Release = () => void;

interface Waiter {
  target: string | null;
  grant(release: Release): void;
}

export class ConnectionGate {
  #inUse = 0;
  #byTarget = new Map<string, number>();
  #waiters: Waiter[] = [];

  constructor(readonly size: number, readonly perTarget: number) {
    if (!(size >= 1 && perTarget >= 1)) throw new RangeError("a gate needs at least one connection per target");
  }

  /** Connections handed out now, and requests waiting for one. */
  get stats(): { inUse: number; waiting: number } {
    return { inUse: this.#inUse, waiting: this.#waiters.length };
  }

  /**
   * A connection slot for a request about `target` (a cart or location id, or
   * null), once one is free for it. Rejects with GateTimeout at `deadline`
   * (a performance.now() time) and with ClientGone when `signal` aborts first.
   */
  acquire(target: string | null, opts: { deadline: number; signal?: AbortSignal }): Promise<Release> {
    const { deadline, signal } = opts;
    if (signal?.aborted) return Promise.reject(new ClientGone());
    if (this.#fits(target)) return Promise.resolve(this.#take(target));
    return new Promise<Release>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
      };
      const onAbort = () => {
        leave();
        reject(new ClientGone());
      };
      const timer = setTimeout(() => {
        leave();
        reject(new GateTimeout(this.#targetFull(target) ? "target" : "pool"));
      }, Math.max(0, deadline - performance.now()));
      const waiter: Waiter = {
        target,
        grant: (release) => {
          leave();
          resolve(release);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #targetFull(target: string | null): boolean {
    return target !== null && (this.#byTarget.get(target) ?? 0) >= this.perTarget;
  }

  #fits(target: string | null): boolean {
    return this.#inUse < this.size && !this.#targetFull(target);
  }

  #take(target: string | null): Release {
    this.#inUse++;
    if (target !== null) this.#byTarget.set(target, (this.#byTarget.get(target) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
      if (target !== null) {
        const left = this.#byTarget.get(target)! - 1;
        if (left === 0) this.#byTarget.delete(target);
        else this.#byTarget.set(target, left);
      }
      this.#admit();
    };
  }

  /** Oldest first, skipping waiters whose cart or location already has its share. */
  #admit(): void {
    for (let i = 0; i < this.#waiters.length && this.#inUse < this.size;) {
      const waiter = this.#waiters[i];
      if (this.#targetFull(waiter.target)) {
        i++;
        continue;
      }
      waiter.grant(this.#take(waiter.target)); // grant() removes it from the list
    }
  }
}
