// The subscribe/getState pair React's useSyncExternalStore wants: a state
// computed on first read after each change, the same object until the next.

type Listener = () => void;

export class Observable<S> {
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
