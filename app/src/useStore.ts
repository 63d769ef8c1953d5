import { useEffect, useSyncExternalStore } from "react";

interface Store<S> {
  subscribe(listener: () => void): () => void;
  getState(): S;
  live(): () => void;
}

/** A library store's state, followed live over Realtime while the component shows it. */
export function useLiveStore<S>(store: Store<S>): S {
  useEffect(() => store.live(), [store]);
  return useSyncExternalStore(store.subscribe, store.getState);
}
