// A value this browser profile keeps (localStorage) and every window of it
// shares: a change in one window shows in the others (the storage event), so
// two windows of the till show the same location and the same open cart.
import { useCallback, useSyncExternalStore } from "react";

const local = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  local.add(listener);
  addEventListener("storage", listener);
  return () => {
    local.delete(listener);
    removeEventListener("storage", listener);
  };
}

export function useKept(key: string): [string | null, (value: string | null) => void] {
  const value = useSyncExternalStore(subscribe, () => localStorage.getItem(key));
  const set = useCallback((next: string | null) => {
    if (next === null) localStorage.removeItem(key);
    else localStorage.setItem(key, next);
    for (const listener of local) listener(); // the storage event fires only in the other windows
  }, [key]);
  return [value, set];
}
