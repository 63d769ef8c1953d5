// The page of browser-outbox.test.ts: one window of a web till, the library
// over IndexedDB and the browser's own Web Locks, bundled by the test.
import { createClient } from "@supabase/supabase-js";
import { createOnecart, indexedDbStorage } from "../../client/src/index.ts";

declare global {
  interface Window {
    till: {
      start(options: { url: string; anonKey: string; token: string; cartId: string }): Promise<void>;
      tap(tap: string, productId: string): void;
      pending(): number;
      online(): boolean;
      flush(): Promise<void>;
    };
  }
}

let onecart: ReturnType<typeof createOnecart>;
let cartId: string;

window.till = {
  async start(options) {
    const supabase = createClient(options.url, options.anonKey, { accessToken: async () => options.token });
    onecart = createOnecart({ supabase, storage: indexedDbStorage("till"), storageKey: "till" });
    cartId = options.cartId;
    await onecart.ready;
  },
  tap(tap, productId) {
    onecart.cart(cartId).addItem(productId, { options: { tap } });
  },
  pending: () => onecart.pendingCount(),
  online: () => onecart.isOnline(),
  flush: () => onecart.flush(),
};
