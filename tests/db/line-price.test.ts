// A line's price is fixed when the line is first added (docs/api.md: "A line
// keeps the name and price it was first added with"), and a merge of duplicate
// carts keeps the surviving cart's lines at their prices: a later change to the
// product row reprices no line already in a cart.
import { beforeAll, describe, expect, it } from "vitest";
import { assertInvariants, type Caller, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";

let db: TestDatabase;
let ann: Caller;
beforeAll(async () => {
  db = await freshDatabase();
  ann = db.as(STAFF_A1);
});

async function product(id: string): Promise<{ name: string; price: number }> {
  const [row] = await db.sql`select name, price_cents::int as price from pos.products where id = ${id}`;
  return row as never;
}

/** What the shop does in Studio: a new price and name for a product. */
async function reprice(id: string, price: number, name: string) {
  await db.sql`update pos.products set price_cents = ${price}, name = ${name} where id = ${id}`;
}

const line = (cart: any, productId: string, options: object = {}) =>
  cart.items.find((i: any) => i.product_id === productId && JSON.stringify(i.options) === JSON.stringify(options));

describe("a line's price", () => {
  it("stays the one it was first added at when the product's price changes; a new line takes the new price", async () => {
    const id = PRODUCT_A[1];
    const before = await product(id);
    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "first-price" });
    await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: id });

    await reprice(id, before.price + 250, `${before.name} (new)`);
    const after = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: id, p_quantity: 2 });
    expect(line(after, id)).toMatchObject({
      quantity: 3,
      name: before.name,
      unit_price_cents: before.price,
      line_total_cents: 3 * before.price,
    });
    // Other options make another line, first added now: at the product's price now.
    const other = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: id, p_options: { size: "L" } });
    expect(line(other, id, { size: "L" })).toMatchObject({
      name: `${before.name} (new)`,
      unit_price_cents: before.price + 250,
    });
    expect(other.subtotal_cents).toBe(3 * before.price + before.price + 250);
    expect(await ann.rpc("get_cart", { p_cart_id: cart.id })).toEqual(other);
    await assertInvariants(db.sql);
  });
});

describe("merge_duplicate_carts", () => {
  it("keeps the surviving cart's prices for a product both carts hold, and each moved line's own price", async () => {
    // Duplicates exist only where the unique indexes do not (a database from
    // before they landed); here they are dropped in this file's own database.
    await db.sql`drop index pos.carts_one_open_per_device_idx`;
    const [kept, moved] = [PRODUCT_A[2], PRODUCT_A[3]];
    const keptBefore = await product(kept);
    const older = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "twin" });
    await ann.rpc("add_item", { p_cart_id: older.id, p_product_id: kept, p_quantity: 2 });

    await reprice(kept, keptBefore.price + 100, keptBefore.name);
    const newer = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "twin-2" });
    await ann.rpc("add_item", { p_cart_id: newer.id, p_product_id: kept });
    const newerCart = await ann.rpc("add_item", { p_cart_id: newer.id, p_product_id: moved });
    expect(line(newerCart, kept).unit_price_cents).toBe(keptBefore.price + 100);
    const movedPrice = line(newerCart, moved).unit_price_cents;
    await reprice(moved, movedPrice + 900, "Renamed");
    await db.sql`update pos.carts set device_id = 'twin', created_at = now() where id = ${newer.id}`;
    await db.sql`update pos.carts set created_at = now() - interval '1 minute' where id = ${older.id}`;

    expect(await db.service.rpc("merge_duplicate_carts")).toBe(1);
    const survivor = await ann.rpc("get_cart", { p_cart_id: older.id });
    expect(line(survivor, kept)).toMatchObject({ quantity: 3, unit_price_cents: keptBefore.price });
    expect(line(survivor, moved)).toMatchObject({ quantity: 1, unit_price_cents: movedPrice });
    expect(line(survivor, moved).name).not.toBe("Renamed");
    expect(survivor.subtotal_cents).toBe(3 * keptBefore.price + movedPrice);
    expect((await ann.rpc("get_cart", { p_cart_id: newer.id })).merged_into).toBe(older.id);
    await assertInvariants(db.sql);
  });
});
