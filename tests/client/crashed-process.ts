// A till process that taps while it cannot reach onecart and is then killed,
// run by outbox-processes.test.ts: its taps are left in the shared file
// storage, under a lease it no longer renews.
import { createClient } from "@supabase/supabase-js";
import { createOnecart } from "../../client/src/index.ts";
import { fileStorage } from "../helpers/file-storage.ts";

const { STORAGE_DIR, CART_ID, PRODUCT, TAPS, LEASE_MS } = process.env;
// Nothing listens on port 9: every request fails, as on a till whose network is down.
const supabase = createClient("http://127.0.0.1:9", "anon", { accessToken: async () => "token" });
const onecart = createOnecart({
  supabase,
  storage: fileStorage(STORAGE_DIR!),
  storageKey: "till",
  outbox: { coordination: "lease", leaseMs: Number(LEASE_MS) },
});
const cart = onecart.cart(CART_ID!);
for (let i = 0; i < Number(TAPS); i++) cart.addItem(PRODUCT!, { options: { tap: `crashed${i}` } });
await onecart.flush();
console.log("stored");
// Killed from outside; until then it stays, renewing its lease.
setInterval(() => {}, 1_000);
