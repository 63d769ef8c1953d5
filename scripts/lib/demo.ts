// What `npm start` shows once it is up: two devices, an iPad and a Mac, on one
// customer's cart, each tapping an item through @onecart/client and each
// seeing the other's change arrive over Realtime.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { type Cart, createOnecart } from "@onecart/client";
import { type Stack, staffToken } from "./stack.ts";
import { CUSTOMER_A, LOCATION_A1, PRODUCT_A, STAFF_A1, STAFF_A2 } from "./seed.ts";

const LOCATION = LOCATION_A1;
const CUSTOMER = CUSTOMER_A[2];
const HAIRCUT = PRODUCT_A[2];
const BEARD_TRIM = PRODUCT_A[0];

export function deviceClient(stack: Pick<Stack, "apiUrl" | "anonKey">, token: string): SupabaseClient {
  return createClient(stack.apiUrl, stack.anonKey, { accessToken: async () => token });
}

function describe(cart: Cart): string {
  const lines = cart.items.map((item) => `${item.quantity}× ${item.name}`).join(", ");
  return `${lines || "empty"}, $${(cart.subtotal_cents / 100).toFixed(2)}`;
}

export async function runDemo(stack: Stack, print: (line: string) => void): Promise<void> {
  const [ann, abe] = await Promise.all([
    staffToken(stack.jwtSecret, STAFF_A1),
    staffToken(stack.jwtSecret, STAFF_A2),
  ]);
  const devices = [
    { name: "iPad", onecart: createOnecart({ supabase: deviceClient(stack, ann) }), product: HAIRCUT },
    { name: "Mac ", onecart: createOnecart({ supabase: deviceClient(stack, abe) }), product: BEARD_TRIM },
  ];
  print("Demo: two devices share Cora Linville's cart at Main Street.");
  try {
    const opened = await devices[0].onecart.openCart({
      locationId: LOCATION,
      customerId: CUSTOMER,
      deviceId: "demo-ipad",
    });
    const target = opened.getState().confirmed!.version + 2;
    const stores = devices.map((device) => device.onecart.cart(opened.id));

    const done = Promise.all(stores.map((store, i) =>
      new Promise<void>((resolve) => {
        let shown = 0;
        const check = () => {
          const { confirmed, live } = store.getState();
          if (live !== "live" || !confirmed || confirmed.version <= shown) return;
          shown = confirmed.version;
          print(`  ${devices[i].name} sees v${confirmed.version}: ${describe(confirmed)}`);
          if (shown >= target) resolve();
        };
        store.subscribe(check);
      })
    ));
    stores.forEach((store) => store.live());
    await Promise.all(stores.map((store) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (store.getState().live !== "live") return;
          unsubscribe();
          resolve();
        };
        const unsubscribe = store.subscribe(check);
        check();
      })
    ));

    await Promise.all(devices.map(async (device, i) => {
      print(`  ${device.name} adds an item`);
      // One tap: queued behind this device's earlier taps on the cart, retried with its own key.
      await stores[i].addItem(device.product).done;
    }));
    const arrived = await Promise.race([
      done.then(() => true),
      new Promise<false>((r) => setTimeout(r, 10_000, false)),
    ]);
    print(
      arrived
        ? "Both devices show the same cart. Nothing was lost.\n"
        : "Demo: not every update arrived within 10 s.\n",
    );
  } finally {
    await Promise.all(devices.map((d) => d.onecart.destroy()));
  }
}
