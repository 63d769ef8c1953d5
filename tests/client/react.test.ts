// The React entry point renders a cart's state from the same store the core keeps.
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { beforeAll, expect, it } from "vitest";
import { OnecartProvider, useCart, useOnline, usePendingCount } from "../../client/src/react.ts";
import { freshDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { startDevice } from "./device.ts";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(await freshDatabase());
});

it("useCart shows the confirmed cart with the pending taps on top", async () => {
  const { network, onecart } = startDevice(server, await server.token(STAFF_A1));
  const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "react" });
  await cart.addItem(PRODUCT_A[0]).done;
  network.setDown(true);
  cart.addItem(PRODUCT_A[1], { display: { name: "Hot Towel Shave", unitPriceCents: 1200 } });

  function CartView() {
    const [state] = useCart(cart.id, { live: false });
    const pending = usePendingCount();
    const online = useOnline();
    return createElement(
      "p",
      null,
      `${state.cart?.items.map((i) => `${i.quantity}× ${i.name}`).join(", ")} | v${state.confirmed?.version} | ` +
        `${pending} pending | ${online ? "online" : "offline"}`,
    );
  }
  const html = renderToString(createElement(OnecartProvider, { client: onecart }, createElement(CartView)));
  expect(html).toContain("1× Beard Trim, 1× Hot Towel Shave | v2 | 1 pending");
  network.setDown(false);
});
