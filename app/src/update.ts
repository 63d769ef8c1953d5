// New versions of the till. The service worker (vite-plugin-pwa, "prompt")
// installs a new version in the background and keeps it waiting; the till shows
// "Update ready" and takes it only when asked and only once this device has no
// pending taps, so an update never reloads under a cashier or strands a tap.
import { registerSW } from "virtual:pwa-register";

let ready = false;
const listeners = new Set<() => void>();
let update: ((reload?: boolean) => Promise<void>) | undefined;
let beforeReload: () => Promise<void> = async () => {};

let reloading = false;
function reloadOnce(): void {
  if (reloading) return;
  reloading = true;
  void beforeReload().finally(() => location.reload());
}

export function startUpdates(): void {
  if (!("serviceWorker" in navigator)) return;
  // A page that had a worker and gets another: a new version took over (asked
  // here or in another window of the till). The very first worker taking an
  // uncontrolled page is no new version, and reloads nothing.
  let controlled = navigator.serviceWorker.controller !== null;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (controlled) reloadOnce();
    controlled = true;
  });
  update = registerSW({
    immediate: true,
    onNeedRefresh() {
      ready = true;
      for (const listener of listeners) listener();
    },
    // The new version took over (here or in another window of the till): pending
    // taps are written to storage first, and the new version carries them on.
    onNeedReload: reloadOnce,
    onRegisteredSW(_url, registration) {
      if (!registration) return;
      // A till stays open all day: look for a new version hourly and when it comes back to the front.
      setInterval(() => void registration.update().catch(() => {}), 60 * 60_000);
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") void registration.update().catch(() => {});
      });
    },
    onRegisterError(error) {
      console.warn("onecart: the offline worker could not be registered", error);
    },
  });
}

export const updateReady = {
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  get: (): boolean => ready,
};

/** Takes the waiting version: call it only when no tap is pending; `flush` writes what storage still owes. */
export async function applyUpdate(flush: () => Promise<void>): Promise<void> {
  beforeReload = flush;
  await flush();
  await update?.(true);
}
