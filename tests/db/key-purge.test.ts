// Idempotency keys are kept a week (docs/api.md, "Idempotency"): the daily
// maintenance job that pos.ensure_maintenance_schedule() gives pg_cron deletes
// the keys older than that and no others. The job's own command is run here, as
// pg_cron would run it, against keys aged by hand.
import { beforeAll, describe, expect, it } from "vitest";
import { type Caller, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { installCronStandIn } from "../helpers/pg-cron.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";

let db: TestDatabase;
let ann: Caller;
beforeAll(async () => {
  db = await freshDatabase();
  ann = db.as(STAFF_A1);
  await installCronStandIn(db.sql);
});

describe("the idempotency key purge", () => {
  it("runs daily and deletes the keys taken more than a week ago, which then no longer replay", async () => {
    expect(await db.sql`select pos.ensure_maintenance_schedule() as jobs`)
      .toEqual([{ jobs: expect.arrayContaining(["onecart-purge-idempotency-keys"]) }]);
    const [job] = await db.sql`select schedule, command, username from cron.job
                                where jobname = 'onecart-purge-idempotency-keys'`;
    expect(job.schedule).toMatch(/^\d+ \d+ \* \* \*$/); // once a day
    expect(job.username).toBe("postgres");

    const cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "purge" });
    const add = (key: string) =>
      ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0], p_idempotency_key: key });
    const first = { aged: await add("aged"), recent: await add("recent"), fresh: await add("fresh") };
    await db.sql`update pos.idempotency_keys set created_at = now() - interval '7 days 1 minute' where key = 'aged'`;
    await db.sql`update pos.idempotency_keys set created_at = now() - interval '6 days 23 hours' where key = 'recent'`;

    await db.sql.unsafe(job.command);

    const kept = await db.sql`select key from pos.idempotency_keys order by key`;
    expect(kept.map((k) => k.key)).toEqual(["fresh", "recent"]);
    // Within the week a retry replays; after it, the same key is a new request.
    expect(await add("recent")).toEqual(first.recent);
    expect(await add("fresh")).toEqual(first.fresh);
    const again = await add("aged");
    expect(again.version).toBe(first.fresh.version + 1);
    expect(again.items[0].quantity).toBe(4);
  });
});
