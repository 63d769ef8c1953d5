import { beforeAll, describe, expect, it } from "vitest";
import { assertInvariants, expectError, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import {
  CUSTOMER_A,
  CUSTOMER_B1,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  MISSING,
  PRODUCT_A,
  PRODUCT_B1,
  STAFF_A1,
  STAFF_A2,
  STAFF_B1,
  STORE_A,
} from "../helpers/fixture.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});

describe("get_or_create_cart", () => {
  it("creates a customer cart at version 1 with a created event, then returns the same cart", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[0] });
    expect(cart).toMatchObject({
      store_id: STORE_A,
      location_id: LOCATION_A1,
      customer_id: CUSTOMER_A[0],
      device_id: null,
      status: "active",
      version: 1,
      items: [],
      item_count: 0,
      subtotal_cents: 0,
      lock: null,
      merged_into: null,
    });
    expect(Object.keys(cart).sort()).toEqual([
      "created_at",
      "customer_id",
      "device_id",
      "id",
      "item_count",
      "items",
      "location_id",
      "lock",
      "merged_into",
      "status",
      "store_id",
      "subtotal_cents",
      "updated_at",
      "version",
    ]);
    const again = await db.as(STAFF_A2).rpc("get_or_create_cart", {
      p_location_id: LOCATION_A1,
      p_customer_id: CUSTOMER_A[0],
      p_device_id: "ipad-2",
    });
    expect(again.id).toBe(cart.id);
    const history = await ann.rpc("get_cart_history", { p_cart_id: cart.id });
    expect(history).toEqual([
      expect.objectContaining({ version: 1, kind: "created", actor_id: STAFF_A1, data: expect.any(Object) }),
    ]);
  });

  it("keeps one cart per customer per location, and one per device for carts with no customer", async () => {
    const ann = db.as(STAFF_A1);
    const a1 = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[1] });
    const a2 = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[1] });
    expect(a2.id).not.toBe(a1.id);
    const d1 = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "mac-1" });
    const d1again = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "mac-1" });
    expect(d1again.id).toBe(d1.id);
    expect(d1).toMatchObject({ customer_id: null, device_id: "mac-1" });
  });

  it("rejects a cart with neither customer nor device, and other stores' locations and customers", async () => {
    const ann = db.as(STAFF_A1);
    await expectError(ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1 }), "invalid_input");
    await expectError(ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "" }), "invalid_input");
    await expectError(
      ann.rpc("get_or_create_cart", { p_location_id: "not-a-uuid", p_device_id: "x" }),
      "invalid_input",
    );
    await expectError(ann.rpc("get_or_create_cart", { p_location_id: LOCATION_B1, p_device_id: "x" }), "not_found");
    await expectError(ann.rpc("get_or_create_cart", { p_location_id: MISSING, p_device_id: "x" }), "not_found");
    await expectError(
      ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_B1 }),
      "not_found",
    );
  });
});

describe("items", () => {
  it("adds, merges lines with the same product and options, prices from the product row", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "items-1" });
    let c = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[2], p_quantity: 2 });
    c = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] });
    c = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[2], p_quantity: 1 });
    c = await ann.rpc("add_item", {
      p_cart_id: cart.id,
      p_product_id: PRODUCT_A[2],
      p_options: { fade: "high" },
      p_expected_version: 4,
    });
    expect(c.version).toBe(5);
    expect(c.items.map((i: any) => [i.product_id, i.quantity, i.unit_price_cents, i.line_total_cents, i.options]))
      .toEqual([
        [PRODUCT_A[2], 3, 2500, 7500, {}],
        [PRODUCT_A[0], 1, 500, 500, {}],
        [PRODUCT_A[2], 1, 2500, 2500, { fade: "high" }],
      ]);
    expect(c.items[0].name).toBe("Haircut");
    expect(c).toMatchObject({ item_count: 5, subtotal_cents: 10500 });

    const haircut = c.items[0].id;
    c = await ann.rpc("set_item_quantity", { p_cart_id: cart.id, p_item_id: haircut, p_quantity: 1 });
    expect(c).toMatchObject({ version: 6, item_count: 3, subtotal_cents: 5500 });
    c = await ann.rpc("set_item_quantity", { p_cart_id: cart.id, p_item_id: haircut, p_quantity: 0 });
    expect(c.items.map((i: any) => i.id)).not.toContain(haircut);
    c = await ann.rpc("remove_item", { p_cart_id: cart.id, p_item_id: c.items[0].id, p_expected_version: 7 });
    expect(c).toMatchObject({ version: 8, item_count: 1, subtotal_cents: 2500 });

    const kinds = (await ann.rpc("get_cart_history", { p_cart_id: cart.id })).map((e: any) => [e.version, e.kind]);
    expect(kinds).toEqual([
      [1, "created"],
      [2, "item_added"],
      [3, "item_added"],
      [4, "item_added"],
      [5, "item_added"],
      [6, "item_quantity_set"],
      [7, "item_removed"],
      [8, "item_removed"],
    ]);
    await assertInvariants(db.sql);
  });

  it("answers each bad request with its code and changes nothing", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "items-2" });
    const add = (args: object) => ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0], ...args });
    await expectError(add({ p_quantity: 0 }), "invalid_input");
    await expectError(add({ p_quantity: 1000 }), "invalid_input");
    await expectError(add({ p_options: [1, 2] }), "invalid_input");
    await expectError(add({ p_product_id: PRODUCT_B1 }), "not_found");
    await expectError(add({ p_product_id: MISSING }), "not_found");
    await expectError(ann.rpc("add_item", { p_cart_id: MISSING, p_product_id: PRODUCT_A[0] }), "not_found");
    const conflict = await expectError(add({ p_expected_version: 7 }), "version_conflict");
    expect(conflict.api.details).toEqual({ current_version: 1 });
    const c = await add({});
    await expectError(
      ann.rpc("set_item_quantity", { p_cart_id: cart.id, p_item_id: MISSING, p_quantity: 1 }),
      "not_found",
    );
    await expectError(
      ann.rpc("set_item_quantity", { p_cart_id: cart.id, p_item_id: c.items[0].id, p_quantity: -1 }),
      "invalid_input",
    );
    await expectError(ann.rpc("remove_item", { p_cart_id: cart.id, p_item_id: MISSING }), "not_found");
    expect((await ann.rpc("get_cart", { p_cart_id: cart.id })).version).toBe(2);
  });

  it("does not let an inactive product be added", async () => {
    await db.sql`update pos.products set active = false where id = ${PRODUCT_A[4]}`;
    const ann = db.as(STAFF_A1);
    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "items-3" });
    await expectError(ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[4] }), "not_found");
    await db.sql`update pos.products set active = true where id = ${PRODUCT_A[4]}`;
  });
});

describe("reads", () => {
  it("lists the open carts of a location and reads one cart", async () => {
    const ann = db.as(STAFF_A1);
    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A2, p_device_id: "reads-1" });
    const open = await ann.rpc("list_open_carts", { p_location_id: LOCATION_A2 });
    expect(open.map((c: any) => c.id)).toContain(cart.id);
    expect(open.every((c: any) => c.location_id === LOCATION_A2 && ["active", "locked"].includes(c.status))).toBe(true);
    expect(await ann.rpc("get_cart", { p_cart_id: cart.id })).toEqual(cart);
    await expectError(ann.rpc("get_cart", { p_cart_id: MISSING }), "not_found");
    await expectError(ann.rpc("get_cart_history", { p_cart_id: MISSING }), "not_found");
    await expectError(ann.rpc("list_open_carts", { p_location_id: MISSING }), "not_found");
  });
});

describe("values sent to Postgres", () => {
  it("round-trip exactly, however they are quoted, and NUL is invalid_input", async () => {
    const ann = db.as(STAFF_A1);
    const nasty = `O'Brien's \\ "iPad" $$ $tag$ \\' ''; drop table pos.carts; -- ☕ \n\t`;
    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: nasty });
    expect(cart.device_id).toBe(nasty);
    const options = { note: nasty, nested: { list: [nasty, 1, null, true] } };
    const added = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0], p_options: options });
    expect(added.items[0].options).toEqual(options);
    await expectError(
      ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "a\0b" }),
      "invalid_input",
    );
    await expectError(
      ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0], p_options: { x: "a\0b" } }),
      "invalid_input",
    );
    const [{ n }] = await db.sql`select count(*)::int as n from pos.carts`;
    expect(n).toBeGreaterThan(0);
  });
});
