// Exactly-once taps through the library: a retry after a lost answer reuses
// the action's key, so the server replays the first answer.
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { startDevice } from "./device.ts";

let db: TestDatabase;
let server: TestServer;
let token: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  token = await server.token(STAFF_A1);
});

describe("a lost answer", () => {
  it("the answer of a committed add is lost: the retry returns the first answer and the cart holds the item once", async () => {
    const { network, onecart } = startDevice(server, token);
    const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "lost-answer" });
    network.loseNextAnswers(1);
    const added = await cart.addItem(PRODUCT_A[0], { quantity: 2 }).done;

    expect(network.stats.lost).toBe(1);
    const history = await db.sql`select version, kind from pos.cart_events where cart_id = ${cart.id} order by version`;
    expect(history.map((e) => e.kind)).toEqual(["created", "item_added"]);
    // The retry's answer is the first one, replayed: version 2, the item once.
    expect(added).toMatchObject({ version: 2, item_count: 2, items: [{ product_id: PRODUCT_A[0], quantity: 2 }] });
    const [row] = await db.sql`select sum(quantity)::int as n from pos.cart_items where cart_id = ${cart.id}`;
    expect(row.n).toBe(2);
    expect(cart.getState()).toMatchObject({ pending: [], rejected: [], cart: { version: 2 }, confirmed: { version: 2 } });
  });
});
