// A process that taps and destroys its client, run by destroy.test.ts: with
// nothing left running it exits on its own. No window, document or IndexedDB
// here, as in React Native or a Node service; NO_WEB_LOCKS=1 also takes
// navigator.locks away, as React Native has none.
import { createClient } from "@supabase/supabase-js";
import { createOnecart, memoryStorage } from "../../client/src/index.ts";

const { ONECART_URL, ONECART_ANON_KEY, ONECART_TOKEN, LOCATION, PRODUCT, NO_WEB_LOCKS, LIVE } = process.env;
if (NO_WEB_LOCKS === "1") Object.defineProperty(globalThis, "navigator", { value: undefined, configurable: true });
const dom = ["window", "document", "indexedDB", "localStorage"].filter((name) => name in globalThis);

const supabase = createClient(ONECART_URL!, ONECART_ANON_KEY!, { accessToken: async () => ONECART_TOKEN! });
const onecart = createOnecart({ supabase, storage: memoryStorage() });
const cart = await onecart.openCart({ locationId: LOCATION!, deviceId: `child-${process.pid}` });
const done = await cart.addItem(PRODUCT!).done;
if (LIVE === "1") {
  const stop = cart.live();
  while (cart.getState().live !== "live") await new Promise((r) => setTimeout(r, 20));
  stop();
}
await onecart.destroy();
console.log(JSON.stringify({
  destroyedAt: Date.now(),
  startedMs: Math.round(performance.now()),
  dom,
  webLocks: typeof (globalThis as any).navigator?.locks === "object",
  version: done.version,
  cartId: cart.id,
}));
