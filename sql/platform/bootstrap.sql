-- The platform a Supabase project provides before any migration runs, laid down
-- by the local superuser (supabase_admin, as on a project) for the local stack and
-- the tests. It is never a migration: on a project all of this already exists.
--
-- It is as strict as a hosted project so that what passes locally deploys:
-- `postgres` is not a superuser, the migrations, the seed and the functions run
-- as `postgres`, `auth` belongs to supabase_auth_admin and realtime.messages to
-- supabase_realtime_admin. Sources: supabase/postgres migrations/db (init-scripts
-- and migrations: roles, demote-postgres, timeouts, default privileges) and
-- supabase/realtime lib/realtime/tenants/repo/migrations (the messages table,
-- realtime.send, realtime.topic).
--
-- Every piece is created or changed only where it is missing or differs, so a
-- second run changes nothing. Needs a superuser; it refuses to demote the role it
-- runs as.

do $$
begin
  if current_user = 'postgres' then
    raise exception 'run the platform bootstrap as a superuser other than postgres (supabase_admin)'
      using hint = 'postgres becomes the project role, which is not a superuser on a Supabase project';
  end if;
end $$;

-- Roles -------------------------------------------------------------------------
do $$
begin
  -- The API roles PostgREST and the functions switch to. INHERIT as on a project
  -- since 2023 (alter_api_roles_for_inherit).
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin inherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin inherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin inherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin login noinherit createrole noreplication;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_realtime_admin') then
    create role supabase_realtime_admin login noinherit createrole replication;
  end if;
  -- The project role: what a Supabase project's connection string logs in as.
  -- demote-postgres: NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS.
  -- The password only matters where the server asks for one.
  if not exists (select from pg_roles where rolname = 'postgres') then
    create role postgres login password 'postgres' nosuperuser inherit createdb createrole replication bypassrls;
  elsif exists (select from pg_roles where rolname = 'postgres'
                  and (rolsuper or not rolcreatedb or not rolcreaterole or not rolreplication
                       or not rolbypassrls or not rolcanlogin or not rolinherit)) then
    alter role postgres nosuperuser inherit createdb createrole login replication bypassrls;
  end if;

  if exists (select from pg_roles where rolname in ('anon', 'authenticated', 'service_role') and not rolinherit) then
    alter role anon inherit;
    alter role authenticated inherit;
    alter role service_role inherit;
  end if;
end $$;

grant anon, authenticated, service_role to authenticator;
-- grant_auth_roles_to_postgres and, on Postgres 16+, with admin option
-- (grant_with_admin_to_postgres_16_and_above).
grant anon, authenticated, service_role to postgres with admin option;
-- grant_predefined_roles_to_postgres, grant_pg_monitor_to_postgres.
grant pg_read_all_data, pg_signal_backend, pg_monitor to postgres;
grant anon, authenticated, service_role to supabase_realtime_admin;

-- Role timeouts as on a project: anon 3 s and authenticated 8 s of statement
-- time (initial-schema); the authenticator, which PostgREST logs in as, 8 s of
-- statement and lock time (set_authenticator_timeout, set_lock_timeout_to_authenticator_role).
-- Upstream sets no lock_timeout on anon or authenticated. Set only where unset,
-- so a project's own choice is never overwritten.
do $$
declare
  setting record;
begin
  for setting in
    select * from (values
      ('anon', 'statement_timeout', '3s'),
      ('authenticated', 'statement_timeout', '8s'),
      ('authenticator', 'statement_timeout', '8s'),
      ('authenticator', 'lock_timeout', '8s')
    ) as s(role, name, value)
  loop
    if not exists (
      select from pg_db_role_setting d join pg_roles r on r.oid = d.setrole
       where d.setdatabase = 0 and r.rolname = setting.role
         and exists (select from unnest(d.setconfig) c where c like setting.name || '=%')
    ) then
      execute format('alter role %I set %I = %L', setting.role, setting.name, setting.value);
    end if;
  end loop;
end $$;

-- The database belongs to the project role, as a project's `postgres` database
-- does; with it comes CREATE in `public` (owned by pg_database_owner).
do $$
begin
  if (select datdba::regrole::text from pg_database where datname = current_database()) <> 'postgres' then
    execute format('alter database %I owner to postgres', current_database());
  end if;
end $$;

-- Schemas -----------------------------------------------------------------------
create schema if not exists extensions;
create schema if not exists auth authorization supabase_auth_admin;
create schema if not exists realtime;
do $$
begin
  if (select nspowner::regrole::text from pg_namespace where nspname = 'auth') <> 'supabase_auth_admin' then
    alter schema auth owner to supabase_auth_admin;
  end if;
end $$;
grant usage on schema public, extensions to postgres, anon, authenticated, service_role;
grant usage on schema auth to postgres, anon, authenticated, service_role;
grant usage on schema realtime to postgres with grant option;
grant usage on schema realtime to anon, authenticated, service_role;
grant all on schema realtime to supabase_realtime_admin with grant option;
grant usage on schema auth to supabase_realtime_admin;

-- Default privileges ------------------------------------------------------------
-- What supabase_admin creates in `public` is open to the API roles (initial-schema).
alter default privileges for role supabase_admin in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on sequences to postgres, anon, authenticated, service_role;
-- What `postgres` creates in `public` gets nothing for the API roles: new
-- projects have been created that way since 30 May 2026, and existing projects
-- changed on 30 October 2026 (Supabase changelog, "Tables not exposed to Data
-- and GraphQL API automatically"; the Dashboard's "Default privileges for new
-- entities" is the opt-in). So no `alter default privileges for role postgres`
-- here: migrations grant what they mean to expose, by name.

-- What the auth server creates in `auth` is open to postgres (update-auth-permissions).
alter default privileges for role supabase_auth_admin in schema auth grant all on tables to postgres;
alter default privileges for role supabase_auth_admin in schema auth grant all on sequences to postgres;
alter default privileges for role supabase_auth_admin in schema auth grant all on routines to postgres;

-- The auth schema's tables and helpers: sql/platform/auth.sql.

-- Realtime ----------------------------------------------------------------------
-- realtime.messages as Supabase Realtime leaves it today: partitioned by day on
-- inserted_at (messages_partitioning, messages_using_uuid, add_binary_payload_to_messages,
-- create_messages_replay_index), owned by supabase_realtime_admin (restrict_realtime_schema).
-- The daily partitions come from sql/platform/realtime_partitions.sql, which the
-- local stack re-runs as Realtime's janitor does.
do $$
begin
  if to_regclass('realtime.messages') is null then
    create table realtime.messages (
      topic text not null,
      extension text not null,
      payload jsonb,
      event text,
      private boolean default false,
      updated_at timestamp not null default now(),
      inserted_at timestamp not null default now(),
      id uuid not null default gen_random_uuid(),
      binary_payload bytea,
      constraint messages_payload_exclusive check (payload is null or binary_payload is null),
      primary key (id, inserted_at)
    ) partition by range (inserted_at);
    create index messages_inserted_at_topic_index on realtime.messages (inserted_at desc, topic)
      where extension = 'broadcast' and private is true;
    alter table realtime.messages enable row level security;
    alter table realtime.messages owner to supabase_realtime_admin;
    grant select, insert, update on realtime.messages to postgres, anon, authenticated, service_role;
  end if;

  if to_regprocedure('realtime.topic()') is null then
    create function realtime.topic() returns text language sql stable as $f$
      select nullif(current_setting('realtime.topic', true), '')::text;
    $f$;
    alter function realtime.topic() owner to supabase_realtime_admin;
  end if;

  if to_regprocedure('realtime.send(jsonb, text, text, boolean)') is null then
    -- Behaves as Supabase Realtime's current send (its migrations
    -- broadcast_send_include_payload_id and rename_broadcast_send_warning): the
    -- message id goes into a payload that has no `id`, the topic is set for the
    -- policies, and a failed send is a warning, never an error that would undo
    -- the change being broadcast.
    create function realtime.send(payload jsonb, event text, topic text, private boolean default true) returns void
    language plpgsql as $f$
    declare
      message_id uuid := gen_random_uuid();
    begin
      begin
        execute format('set local realtime.topic to %L', topic);
        insert into realtime.messages (id, payload, event, topic, private, extension)
        values (message_id,
                case when payload ? 'id' then payload else jsonb_set(payload, '{id}', to_jsonb(message_id)) end,
                event, topic, private, 'broadcast');
      exception when others then
        raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
      end;
    end
    $f$;
    alter function realtime.send(jsonb, text, text, boolean) owner to supabase_realtime_admin;
  end if;

  if to_regprocedure('realtime.send_binary(bytea, text, text, boolean)') is null then
    create function realtime.send_binary(payload bytea, event text, topic text, private boolean default true)
    returns void language plpgsql as $f$
    begin
      begin
        execute format('set local realtime.topic to %L', topic);
        insert into realtime.messages (id, binary_payload, event, topic, private, extension)
        values (gen_random_uuid(), payload, event, topic, private, 'broadcast');
      exception when others then
        raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
      end;
    end
    $f$;
    alter function realtime.send_binary(bytea, text, text, boolean) owner to supabase_realtime_admin;
  end if;

  -- The local Realtime reads committed inserts of this table from the WAL, as
  -- Supabase Realtime does: in commit order, never a rolled-back row. Rows land
  -- in the daily partitions; publishing through the root names them
  -- realtime.messages. Needs wal_level = logical (the embedded server has it).
  if not exists (select from pg_publication where pubname = 'onecart_local_realtime') then
    create publication onecart_local_realtime for table realtime.messages
      with (publish = 'insert', publish_via_partition_root = true);
  elsif not (select pubviaroot from pg_publication where pubname = 'onecart_local_realtime') then
    alter publication onecart_local_realtime set (publish_via_partition_root = true);
  end if;
end $$;
grant execute on function realtime.topic() to postgres, anon, authenticated, service_role;

-- Since Realtime's restrict_realtime_schema (2026-07), `postgres` is no member
-- of supabase_realtime_admin and may not create in schema realtime; it keeps
-- USAGE with grant option. Revoked here too, for databases bootstrapped before.
-- Its policies on realtime.messages come from supautils' policy_grants:
-- sql/platform/supautils_policy_grants.sql.
revoke supabase_realtime_admin from postgres;
revoke create on schema realtime from postgres;
