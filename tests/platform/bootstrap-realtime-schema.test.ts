// Schema realtime as Supabase Realtime's restrict_realtime_schema (2026-07)
// leaves it on a project: `postgres` is no member of supabase_realtime_admin,
// may not create in the schema, keeps USAGE with grant option, and creates
// policies on realtime.messages only because supautils' policy_grants allow it.
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";

let db: TestDatabase;

/** The SQLSTATE a statement fails with, or "ok". */
const sqlstate = (query: PromiseLike<unknown>) =>
  Promise.resolve(query).then(() => "ok", (error: { code?: string }) => error.code);

beforeAll(async () => {
  db = await freshDatabase();
});

describe("schema realtime for the project role", () => {
  it("postgres is no member of supabase_realtime_admin and has no CREATE on the schema", async () => {
    const [rights] = await db.sql`
      select pg_has_role('postgres', 'supabase_realtime_admin', 'member') as member,
             has_schema_privilege('postgres', 'realtime', 'create') as can_create,
             has_schema_privilege('postgres', 'realtime', 'usage with grant option') as usage_grantable`;
    expect(rights).toEqual({ member: false, can_create: false, usage_grantable: true });
  });

  it("a migration may not create, alter or drop anything in realtime", async () => {
    expect(await sqlstate(db.sql`create table realtime.onecart_notes (id int)`)).toBe("42501");
    expect(await sqlstate(db.sql`create function realtime.onecart_x() returns int language sql as 'select 1'`)).toBe(
      "42501",
    );
    expect(await sqlstate(db.sql`alter table realtime.messages add column onecart int`)).toBe("42501");
    expect(await sqlstate(db.sql`drop function realtime.topic()`)).toBe("42501");
  });

  it("a migration may create, alter and drop a policy on realtime.messages, as supautils allows", async () => {
    await db.sql.begin(async (tx) => {
      await tx`create policy onecart_probe on realtime.messages for select to authenticated using (false)`;
      await tx`alter policy onecart_probe on realtime.messages using (true)`;
      await tx`drop policy onecart_probe on realtime.messages`;
    });
    const [{ member }] = await db.sql`select pg_has_role('postgres', 'supabase_realtime_admin', 'member') as member`;
    expect(member).toBe(false);
  });

  it("but not on a daily partition, which policy_grants do not list", async () => {
    const [{ partition }] = await db.sql`
      select c.oid::regclass::text as partition from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'realtime.messages'::regclass limit 1`;
    expect(await sqlstate(db.sql.unsafe(`create policy onecart_probe on ${partition} for select using (true)`))).toBe(
      "42501",
    );
  });

  it("nor may it drop one there that the realtime owner made", async () => {
    const [{ partition }] = await db.sql`
      select c.oid::regclass::text as partition from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'realtime.messages'::regclass limit 1`;
    // Made by the superuser, past the local policy_grants triggers.
    await db.admin().unsafe(`set session_replication_role = replica;
      create policy onecart_owner_probe on ${partition} for select using (true);
      reset session_replication_role`);
    expect(await sqlstate(db.sql.unsafe(`drop policy onecart_owner_probe on ${partition}`))).toBe("42501");
    const [{ member }] = await db.sql`select pg_has_role('postgres', 'supabase_realtime_admin', 'member') as member`;
    expect(member).toBe(false);
  });
});
