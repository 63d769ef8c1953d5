// The local platform is as strict as a hosted Supabase project, so what passes
// here deploys: `postgres` is not a superuser and is what applied the migrations
// and the seed; the platform's own objects belong to the roles that own them on
// a project; realtime.send is upstream's; the bootstrap changes nothing twice.
import { randomUUID } from "node:crypto";
import type { RealtimeChannel } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  bootstrap,
  connect,
  createDatabase,
  dropDatabase,
  withOnecartFunctionDefaults,
} from "../../scripts/lib/database.ts";
import { freshDatabase, rolledBack, type Sql, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { CUSTOMER_A, LOCATION_A1, STAFF_A1 } from "../helpers/fixture.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});

describe("the project role", () => {
  it("is postgres, not a superuser, with what a project gives it", async () => {
    const [me] = await db.sql`
      select current_user as name, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolinherit
        from pg_roles where rolname = current_user`;
    expect(me).toEqual({
      name: "postgres",
      rolsuper: false,
      rolbypassrls: true,
      rolcreaterole: true,
      rolcreatedb: true,
      rolreplication: true,
      rolinherit: true,
    });
    const [member] = await db.sql`
      select pg_has_role('postgres', 'anon', 'member') as anon,
             pg_has_role('postgres', 'authenticated', 'member') as authenticated,
             pg_has_role('postgres', 'service_role', 'member') as service_role,
             pg_has_role('postgres', 'supabase_auth_admin', 'member') as auth_admin,
             pg_has_role('postgres', 'supabase_realtime_admin', 'usage') as realtime_admin_usage,
             pg_has_role('postgres', 'supabase_realtime_admin', 'set') as realtime_admin_set`;
    // No membership in the realtime owner since Realtime's restrict_realtime_schema
    // (tests/platform/bootstrap-realtime-schema.test.ts).
    expect(member).toEqual({
      anon: true,
      authenticated: true,
      service_role: true,
      auth_admin: false,
      realtime_admin_usage: false,
      realtime_admin_set: false,
    });
  });

  it("applied the migrations and the seed: onecart's objects and the migration history are its own", async () => {
    const owners = await db.sql`
      select n.nspname as schema, n.nspowner::regrole::text as owner from pg_namespace n
       where n.nspname in ('pos', 'ops', 'supabase_migrations') order by 1`;
    expect(owners).toEqual([
      { schema: "ops", owner: "postgres" },
      { schema: "pos", owner: "postgres" },
      { schema: "supabase_migrations", owner: "postgres" },
    ]);
    const [{ foreign }] = await db.sql`
      select count(*)::int as foreign from pg_class
       where relnamespace in ('pos'::regnamespace, 'ops'::regnamespace) and relowner <> 'postgres'::regrole`;
    expect(foreign).toBe(0);
    const [{ staff }] = await db.sql`select count(*)::int as staff from pos.staff`;
    expect(staff).toBeGreaterThan(0);
  });

  it("cannot do what only a superuser may", async () => {
    await expect(db.sql`alter system set work_mem = '1GB'`).rejects.toThrow(/permission denied/);
    await expect(db.sql`create extension if not exists plpython3u`).rejects.toThrow();
    await expect(db.sql`create table auth.mine (id int)`).rejects.toThrow(/permission denied/);
  });

  it("refuses to be demoted by the bootstrap it would have to run", async () => {
    await expect(bootstrap(db.url)).rejects.toThrow(/superuser other than postgres/);
  });
});

describe("the platform's roles and objects", () => {
  it("API roles inherit, with a project's timeouts", async () => {
    const roles = await db.sql`
      select rolname, rolinherit, rolbypassrls,
             coalesce((select setconfig from pg_db_role_setting where setrole = r.oid and setdatabase = 0), '{}') as config
        from pg_roles r where rolname in ('anon', 'authenticated', 'service_role', 'authenticator') order by 1`;
    expect(roles).toEqual([
      { rolname: "anon", rolinherit: true, rolbypassrls: false, config: ["statement_timeout=3s"] },
      { rolname: "authenticated", rolinherit: true, rolbypassrls: false, config: ["statement_timeout=8s"] },
      {
        rolname: "authenticator",
        rolinherit: false,
        rolbypassrls: false,
        config: ["statement_timeout=8s", "lock_timeout=8s"],
      },
      { rolname: "service_role", rolinherit: true, rolbypassrls: true, config: [] },
    ]);
  });

  it("auth belongs to supabase_auth_admin, realtime.messages to supabase_realtime_admin, partitioned by day", async () => {
    const [row] = await db.sql`
      select (select nspowner::regrole::text from pg_namespace where nspname = 'auth') as auth,
             (select proowner::regrole::text from pg_proc where oid = 'auth.uid()'::regprocedure) as uid,
             (select relowner::regrole::text from pg_class where oid = 'realtime.messages'::regclass) as messages,
             (select relkind::text from pg_class where oid = 'realtime.messages'::regclass) as kind,
             (select pg_get_partkeydef('realtime.messages'::regclass)) as partkey,
             (select proowner::regrole::text from pg_proc
               where oid = 'realtime.send(jsonb, text, text, boolean)'::regprocedure) as send,
             (select pubviaroot from pg_publication where pubname = 'onecart_local_realtime') as via_root`;
    expect(row).toEqual({
      auth: "supabase_auth_admin",
      uid: "supabase_auth_admin",
      messages: "supabase_realtime_admin",
      kind: "p",
      partkey: "RANGE (inserted_at)",
      send: "supabase_realtime_admin",
      via_root: true,
    });
    const partitions = await db.sql`
      select c.relname, c.relowner::regrole::text as owner from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'realtime.messages'::regclass order by 1`;
    const today = new Date().toISOString().slice(0, 10).replaceAll("-", "_");
    expect(partitions.map((p) => p.relname)).toContain(`messages_${today}`);
    expect(partitions.length).toBeGreaterThanOrEqual(4);
    expect(new Set(partitions.map((p) => p.owner))).toEqual(new Set(["supabase_realtime_admin"]));
  });

  it("gives the API roles nothing in public by default, as a new project does", async () => {
    await rolledBack(db.sql, async (tx) => {
      await tx`create table public.another_feature (id int)`;
      await tx`create sequence public.another_feature_seq`;
      const [grants] = await tx`
        select has_table_privilege('anon', 'public.another_feature', 'select') as anon,
               has_table_privilege('authenticated', 'public.another_feature', 'select, insert') as authenticated,
               has_table_privilege('service_role', 'public.another_feature', 'select') as service,
               has_sequence_privilege('authenticated', 'public.another_feature_seq', 'usage') as seq`;
      expect(grants).toEqual({ anon: false, authenticated: false, service: false, seq: false });
    });
  });
});

describe("default EXECUTE on functions", () => {
  it("is revoked on onecart's functions and kept for other features of the project", async () => {
    const [{ open }] = await db.sql`
      select count(*)::int as open from pg_proc p
       where p.pronamespace in ('pos'::regnamespace, 'ops'::regnamespace, 'public'::regnamespace)
         and has_function_privilege('public', p.oid, 'execute')`;
    // "public" here is the PUBLIC pseudo-role: no onecart function is callable by everyone.
    expect(open).toBe(0);
    await rolledBack(db.sql, async (tx) => {
      await tx`create schema another_feature`;
      await tx`create function another_feature.hello() returns text language sql as $$ select 'hi' $$`;
      await tx`create function public.another_feature_hello() returns text language sql as $$ select 'hi' $$`;
      const [row] = await tx`
        select has_function_privilege('public', 'another_feature.hello()', 'execute') as own_schema,
               has_function_privilege('public', 'public.another_feature_hello()', 'execute') as public_schema`;
      expect(row).toEqual({ own_schema: true, public_schema: true });
    });
  });

  it("is revoked while a composed onecart migration runs, and restored after it", async () => {
    await rolledBack(db.sql, async (tx) => {
      await tx.unsafe(withOnecartFunctionDefaults(
        "create function pos.composed() returns int language sql as 'select 1';",
      ));
      await tx`create function pos.afterwards() returns int language sql as 'select 1'`;
      const [row] = await tx`
        select has_function_privilege('public', 'pos.composed()', 'execute') as composed,
               has_function_privilege('public', 'pos.afterwards()', 'execute') as afterwards,
               (select count(*)::int from pg_default_acl where defaclnamespace = 0) as global_defaults`;
      expect(row).toEqual({ composed: false, afterwards: true, global_defaults: 0 });
    });
  });
});

describe("realtime.send, as upstream", () => {
  let notices: string[];
  let sql: Sql;
  beforeAll(() => {
    notices = [];
    sql = connect(db.url, { max: 1, onnotice: (n) => notices.push(`${n.severity}: ${n.message}`) });
  });
  afterAll(() => sql.end());

  it("adds an id to a payload that has none, and keeps one that has", async () => {
    const topic = `platform:${randomUUID()}`;
    await sql`select realtime.send('{"n": 1}'::jsonb, 'e', ${topic}, true)`;
    await sql`select realtime.send('{"n": 2, "id": "mine"}'::jsonb, 'e', ${topic}, true)`;
    const rows =
      await sql`select id::text, payload from realtime.messages where topic = ${topic} order by payload->>'n'`;
    expect(rows[0].payload).toEqual({ n: 1, id: rows[0].id });
    expect(rows[1].payload).toEqual({ n: 2, id: "mine" });
  });

  it("warns with WarnSendingBroadcastMessage and never fails the caller's change", async () => {
    // anon may not send on onecart's topics (a restrictive policy): the send fails inside.
    const [{ after }] = await sql.begin(async (tx) => {
      await tx`set local role anon`;
      await tx`select realtime.send('{}'::jsonb, 'e', ${`cart:${randomUUID()}`}, true)`;
      return await tx`select 'the transaction goes on' as after`;
    });
    expect(after).toBe("the transaction goes on");
    expect(notices.filter((n) => n.startsWith("WARNING"))).toEqual([
      expect.stringMatching(/^WARNING: WarnSendingBroadcastMessage: new row violates row-level security policy/),
    ]);
  });
});

describe("a queue snapshot on its way to a device", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(db);
  });

  it("carries the id that realtime.send adds, read from the partitioned table through the WAL", async () => {
    const token = await server.token(STAFF_A1);
    const client = server.client(token);
    await client.realtime.setAuth();
    const received: any[] = [];
    let replicating!: () => void;
    const ready = new Promise<void>((resolve) => (replicating = resolve));
    const channel: RealtimeChannel = client
      .channel(`queue:${LOCATION_A1}`, { config: { private: true, broadcast: { replication_ready: true } } })
      .on("broadcast", { event: "queue_updated" }, ({ payload }) => received.push(payload))
      .on("system", {}, (message: { status?: string }) => message.status === "ok" && replicating());
    const status = await new Promise<string>((resolve) => channel.subscribe((s) => s !== "CLOSED" && resolve(s)));
    expect(status).toBe("SUBSCRIBED");
    await ready;

    await db.as(STAFF_A1).rpc("add_to_queue", { p_location_id: LOCATION_A1, p_customer_id: CUSTOMER_A[2] });
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received.length).toBeGreaterThan(0);
    const payload = received.at(-1);
    expect(payload).toMatchObject({ location_id: LOCATION_A1 });
    expect(payload.id).toMatch(/^[0-9a-f-]{36}$/);
    const [row] = await db.sql`select id::text from realtime.messages where payload->>'id' = ${payload.id}`;
    expect(row?.id).toBe(payload.id);
  });
});

describe("the bootstrap", () => {
  /** Everything the bootstrap creates or changes, as the catalog shows it. */
  async function platform(sql: Sql) {
    return {
      roles: await sql`
        select rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls
          from pg_roles where rolname in ('postgres', 'anon', 'authenticated', 'service_role', 'authenticator',
                                          'supabase_auth_admin', 'supabase_realtime_admin') order by 1`,
      members: await sql`
        select roleid::regrole::text as role, member::regrole::text as member, admin_option, inherit_option, set_option
          from pg_auth_members where member::regrole::text in ('postgres', 'authenticator', 'supabase_realtime_admin')
         order by 1, 2`,
      settings: await sql`select setrole::regrole::text, setdatabase, setconfig from pg_db_role_setting order by 1, 2`,
      database:
        await sql`select datdba::regrole::text, datacl::text from pg_database where datname = current_database()`,
      schemas: await sql`select nspname, nspowner::regrole::text, nspacl::text from pg_namespace order by 1`,
      defaultAcl: await sql`select defaclrole::regrole::text, defaclnamespace, defaclobjtype, defaclacl::text
                              from pg_default_acl order by 1, 2, 3`,
      relations: await sql`select oid::regclass::text as rel, relkind, relowner::regrole::text, relacl::text
                             from pg_class where relnamespace in ('auth'::regnamespace, 'realtime'::regnamespace)
                            order by 1`,
      functions: await sql`select oid::regprocedure::text as fn, proowner::regrole::text, proacl::text, prosrc
                             from pg_proc where pronamespace in ('auth'::regnamespace, 'realtime'::regnamespace)
                            order by 1`,
      policies: await sql`select * from pg_policies where schemaname in ('auth', 'realtime') order by policyname`,
      publications: await sql`select pubname, pubinsert, pubupdate, pubviaroot,
                                     array(select tablename::text from pg_publication_tables t where t.pubname = p.pubname)
                                from pg_publication p order by 1`,
    };
  }

  it("changes nothing the second time, on an empty database or on a migrated one", async () => {
    const name = `platform_${process.pid}`;
    const adminUrl = inject("adminUrl");
    await dropDatabase(adminUrl, name);
    const empty = await createDatabase(adminUrl, name);
    const sql = connect(empty, { max: 1 });
    try {
      await bootstrap(empty);
      const once = await platform(sql);
      await bootstrap(empty);
      expect(await platform(sql)).toEqual(once);
      expect(once.relations.length).toBeGreaterThan(4);
    } finally {
      await sql.end();
      await dropDatabase(adminUrl, name);
    }

    const migrated = await platform(db.admin());
    await bootstrap(db.adminUrl);
    expect(await platform(db.admin())).toEqual(migrated);
  });
});

describe("pg_cron enabled after the migrations ran", () => {
  let later: TestDatabase;
  beforeAll(async () => {
    later = await freshDatabase();
  });

  it("gets onecart's schedule from the functions' next instance, once", async () => {
    expect(await later.sql`select pos.ensure_maintenance_schedule() as jobs`).toEqual([{ jobs: [] }]);
    // pg_cron's interface as far as onecart uses it; the embedded Postgres has no pg_cron.
    await later.sql.begin(async (tx) => {
      await tx`create schema cron`;
      await tx`create table cron.job (jobid bigserial primary key, schedule text not null, command text not null,
                                      jobname text, username text not null default current_user)`;
      await tx`create function cron.schedule(job_name text, schedule text, command text) returns bigint
                 language sql as $$
                   insert into cron.job (jobname, schedule, command) values (job_name, schedule, command) returning jobid
                 $$`;
    });

    const server = await startTestServer(later);
    const { status } = await server.call("GET", `/queue?location_id=${LOCATION_A1}`, {
      token: await server.token(STAFF_A1),
    });
    expect(status).toBe(200);
    const deadline = Date.now() + 10_000;
    let jobs: Array<{ jobname: string; schedule: string; command: string; username: string }> = [];
    while (jobs.length < 4 && Date.now() < deadline) {
      jobs = (await later.sql`select jobname, schedule, command, username from cron.job order by jobname`) as never;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(jobs).toEqual([
      {
        jobname: "onecart-check-alerts",
        schedule: "* * * * *",
        command: "select public.check_alerts()",
        username: "postgres",
      },
      {
        jobname: "onecart-expire-cart-locks",
        schedule: "* * * * *",
        command: "select public.expire_cart_locks()",
        username: "postgres",
      },
      expect.objectContaining({ jobname: "onecart-purge-idempotency-keys", schedule: "17 3 * * *" }),
      expect.objectContaining({ jobname: "onecart-purge-refusals", schedule: "29 3 * * *" }),
    ]);
    expect(await later.sql`select pos.ensure_maintenance_schedule() as jobs`).toEqual([{ jobs: [] }]);
    expect(await later.sql`select count(*)::int as n from cron.job`).toEqual([{ n: 4 }]);
  });
});
