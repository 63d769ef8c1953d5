// What `npm start` shows once it is up: two devices, an iPad and a Mac, on one
// customer's cart, each adding an item through the carts function and each
// seeing the other's change arrive over Realtime.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { staffToken, type Stack } from "./stack.ts";

const LOCATION = "1a000000-0000-4000-8000-000000000001";
const CUSTOMER = "ca000000-0000-4000-8000-000000000003";
const HAIRCUT = "9a000000-0000-4000-8000-000000000003";
const BEARD_TRIM = "9a000000-0000-4000-8000-000000000001";

export function deviceClient(stack: Pick<Stack, "apiUrl" | "anonKey">, token: string): SupabaseClient {
  return createClient(stack.apiUrl, stack.anonKey, { accessToken: async () => token });
}

export async function runDemo(stack: Stack, print: (line: string) => void): Promise<void> {
  const [ann, abe] = await Promise.all([
    staffToken(stack.jwtSecret, "ea000000-0000-4000-8000-000000000001"),
    staffToken(stack.jwtSecret, "ea000000-0000-4000-8000-000000000002"),
  ]);
  const devices = [
    { name: "iPad", client: deviceClient(stack, ann), product: HAIRCUT },
    { name: "Mac ", client: deviceClient(stack, abe), product: BEARD_TRIM },
  ];
  print("Demo: two devices share Cora Linville's cart at Main Street.");
  const { data: cart, error } = await devices[0].client.functions.invoke("carts", {
    body: { location_id: LOCATION, customer_id: CUSTOMER, device_id: "demo-ipad" },
  });
  if (error) throw error;

  // Private channels: hand Realtime the staff token before joining.
  await Promise.all(devices.map((d) => d.client.realtime.setAuth()));
  const seen = devices.map(() => 0);
  const target = cart.version + 2;
  const done = new Promise<void>((resolve) => {
    devices.forEach((device, i) => {
      device.client.channel(`cart:${cart.id}`, { config: { private: true } })
        .on("broadcast", { event: "cart_updated" }, ({ payload }) => {
          if (payload.version <= seen[i]) return; // an older snapshot than the one shown
          seen[i] = payload.version;
          const lines = payload.items.map((item: any) => `${item.quantity}× ${item.name}`).join(", ");
          print(`  ${device.name} sees v${payload.version}: ${lines || "empty"}, $${(payload.subtotal_cents / 100).toFixed(2)}`);
          if (seen.every((v) => v >= target)) resolve();
        })
        .subscribe();
    });
  });
  await new Promise((r) => setTimeout(r, 500));
  await Promise.all(devices.map(async (device) => {
    print(`  ${device.name} adds an item`);
    const { error } = await device.client.functions.invoke(`carts/${cart.id}/items`, {
      body: { product_id: device.product },
    });
    if (error) throw error;
  }));
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  print(seen.every((v) => v >= target)
    ? "Both devices show the same cart. Nothing was lost.\n"
    : "Demo: not every update arrived within 10 s.\n");
  await Promise.all(devices.map((d) => d.client.removeAllChannels()));
}
