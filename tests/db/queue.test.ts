import { beforeAll, describe, expect, it } from "vitest";
import { assertInvariants, expectError, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import {
  CUSTOMER_A,
  CUSTOMER_B1,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  MISSING,
  STAFF_A1,
  STAFF_B1,
} from "../helpers/fixture.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});

describe("queue", () => {
  it("joins with the customer's open cart, numbers tickets, and gives a waiting customer the same entry", async () => {
    const ann = db.as(STAFF_A1);
    const existing = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[0] });
    const first = await ann.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[0] });
    expect(first.cart.id).toBe(existing.id);
    expect(first.entry).toEqual({
      id: expect.any(String),
      location_id: LOCATION_A2,
      customer_id: CUSTOMER_A[0],
      cart_id: existing.id,
      ticket_number: 1,
      status: "waiting",
      position: 1,
      joined_at: expect.any(String),
      called_at: null,
    });
    const second = await ann.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[1] });
    expect(second.entry).toMatchObject({ ticket_number: 2, position: 2 });
    expect(second.cart).toMatchObject({ customer_id: CUSTOMER_A[1], location_id: LOCATION_A2, version: 1 });
    const again = await ann.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[0] });
    expect(again.entry).toEqual(first.entry);

    const queue = await ann.rpc("get_queue", { p_location_id: LOCATION_A2 });
    expect(queue.location_id).toBe(LOCATION_A2);
    expect(queue.entries.map((e: any) => [e.ticket_number, e.status, e.position])).toEqual([
      [1, "waiting", 1],
      [2, "waiting", 2],
    ]);
  });

  it("calls the lowest ticket, completes and leaves, and lists only waiting and serving entries", async () => {
    const ann = db.as(STAFF_A1);
    const called = await ann.rpc("call_next", { p_location_id: LOCATION_A2 });
    expect(called).toMatchObject({
      ticket_number: 1,
      status: "serving",
      position: null,
      called_at: expect.any(String),
    });
    let queue = await ann.rpc("get_queue", { p_location_id: LOCATION_A2 });
    expect(queue.entries.map((e: any) => [e.ticket_number, e.status, e.position])).toEqual([
      [1, "serving", null],
      [2, "waiting", 1],
    ]);
    const done = await ann.rpc("complete_queue_entry", { p_entry_id: called.id });
    expect(done).toMatchObject({ id: called.id, status: "done", position: null });
    expect(await ann.rpc("complete_queue_entry", { p_entry_id: called.id })).toEqual(done);

    const waiting = queue.entries[1];
    const left = await ann.rpc("leave_queue", { p_entry_id: waiting.id });
    expect(left).toMatchObject({ status: "left", position: null });
    queue = await ann.rpc("get_queue", { p_location_id: LOCATION_A2 });
    expect(queue.entries).toEqual([]);
    expect(await ann.rpc("call_next", { p_location_id: LOCATION_A2 })).toBeNull();

    // Back in line after leaving: a new ticket with the same open cart.
    const back = await ann.rpc("add_to_queue", { p_location_id: LOCATION_A2, p_customer_id: CUSTOMER_A[1] });
    expect(back.entry).toMatchObject({ ticket_number: 3, cart_id: waiting.cart_id });
    await assertInvariants(db.sql);
  });

  it("answers bad and foreign ids with the contract's codes", async () => {
    const ann = db.as(STAFF_A1);
    await expectError(ann.rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: null }), "invalid_input");
    await expectError(ann.rpc("add_to_queue", { p_location_id: LOCATION_B1, p_customer_id: CUSTOMER_B1 }), "not_found");
    await expectError(ann.rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_B1 }), "not_found");
    await expectError(ann.rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: MISSING }), "not_found");
    await expectError(ann.rpc("get_queue", { p_location_id: LOCATION_B1 }), "not_found");
    await expectError(ann.rpc("call_next", { p_location_id: LOCATION_B1 }), "not_found");
    await expectError(ann.rpc("complete_queue_entry", { p_entry_id: MISSING }), "not_found");
    await expectError(ann.rpc("leave_queue", { p_entry_id: "nope" }), "invalid_input");

    const { entry } = await db.as(STAFF_B1).rpc("add_to_queue", {
      p_location_id: LOCATION_B1,
      p_customer_id: CUSTOMER_B1,
    });
    await expectError(ann.rpc("complete_queue_entry", { p_entry_id: entry.id }), "not_found");
    await expectError(ann.rpc("leave_queue", { p_entry_id: entry.id }), "not_found");
    const [row] = await db.sql`select status from pos.queue_entries where id = ${entry.id}`;
    expect(row.status).toBe("waiting");
  });
});
