// supabase/seed.sql holds exactly the contract's fixture.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/database.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import {
  CUSTOMER_A,
  CUSTOMER_B1,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  PRODUCT_A,
  PRODUCT_B1,
  STAFF_A1,
  STAFF_A2,
  STAFF_B1,
  STORE_A,
  STORE_B,
} from "../helpers/fixture.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});

it("has the two stores, their locations, products, customers and staff", async () => {
  const stores = await db.sql`select id, name from pos.stores order by id`;
  expect(stores).toEqual([
    { id: STORE_A, name: "Blowing Rock Barbers" },
    { id: STORE_B, name: "Valle Crucis Cuts" },
  ]);
  const byStore = async (table: string) =>
    (await db.sql.unsafe(`select id, store_id from pos.${table} order by id`)).map((r) => [r.id, r.store_id]);
  expect(await byStore("locations")).toEqual([[LOCATION_A1, STORE_A], [LOCATION_A2, STORE_A], [LOCATION_B1, STORE_B]]);
  expect(await byStore("products")).toEqual([...PRODUCT_A.map((p) => [p, STORE_A]), [PRODUCT_B1, STORE_B]]);
  expect(await byStore("customers")).toEqual([...CUSTOMER_A.map((c) => [c, STORE_A]), [CUSTOMER_B1, STORE_B]]);

  const prices = (await db.sql`select price_cents from pos.products where store_id = ${STORE_A} and active`)
    .map((r) => Number(r.price_cents));
  expect(prices).toHaveLength(5);
  expect(Math.min(...prices)).toBe(500);
  expect(Math.max(...prices)).toBe(4000);

  const staff = await db.sql`select s.user_id, s.store_id from pos.staff s join auth.users u on u.id = s.user_id
                              order by s.user_id`;
  expect(staff.map((r) => [r.user_id, r.store_id])).toEqual([
    [STAFF_A1, STORE_A],
    [STAFF_A2, STORE_A],
    [STAFF_B1, STORE_B],
  ]);
});

it("applies twice without error or duplicates", async () => {
  await db.sql.unsafe(await readFile(join(repoRoot, "supabase/seed.sql"), "utf8"));
  const [{ n }] = await db.sql`select count(*)::int as n from pos.products`;
  expect(n).toBe(6);
});
