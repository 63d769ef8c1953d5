-- What a Supabase database has and a plain Postgres lacks, recreated for the
-- local stack and the tests. Every piece is created only where it is missing, so
-- running this against a real Supabase database changes nothing. It is never a
-- migration: migrations deploy to Supabase, where all of this already exists.

do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
end $$;

grant anon, authenticated, service_role to authenticator;

create schema if not exists extensions;
create schema if not exists realtime;
grant usage on schema public, extensions, realtime to anon, authenticated, service_role;

-- Supabase grants the API roles everything in `public` by default; migrations are
-- expected to take back what they do not mean to give. Mirroring that here is what
-- makes the tests prove our revokes.
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

-- The auth schema's tables and helpers: sql/platform/auth.sql.

do $$
begin
  if to_regclass('realtime.messages') is null then
    create table realtime.messages (
      id uuid not null default gen_random_uuid(),
      topic text not null,
      extension text not null,
      payload jsonb,
      event text,
      private boolean default false,
      updated_at timestamp not null default now(),
      inserted_at timestamp not null default now(),
      primary key (id, inserted_at)
    );
    alter table realtime.messages enable row level security;
    grant select, insert on realtime.messages to anon, authenticated, service_role;

    -- The local stack reads committed inserts of this table from the WAL, as
    -- Supabase Realtime does: in commit order, never a rolled-back row. Needs
    -- wal_level = logical (the embedded server is started with it).
    create publication onecart_local_realtime for table realtime.messages with (publish = 'insert');
  end if;

  if to_regprocedure('realtime.topic()') is null then
    create function realtime.topic() returns text language sql stable as $f$
      select nullif(current_setting('realtime.topic', true), '')::text
    $f$;
  end if;

  if to_regprocedure('realtime.send(jsonb, text, text, boolean)') is null then
    -- Same shape and behaviour as Supabase's: a failed send is a warning, never
    -- an error that would undo the change being broadcast.
    create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
    returns void language plpgsql as $f$
    begin
      begin
        perform set_config('realtime.topic', topic, true);
        insert into realtime.messages (payload, event, topic, private, extension)
        values (payload, event, topic, private, 'broadcast');
      exception when others then
        raise warning 'ErrorSendingBroadcastMessage: %', sqlerrm;
      end;
    end $f$;
  end if;
end $$;
grant execute on function realtime.topic() to anon, authenticated, service_role;
