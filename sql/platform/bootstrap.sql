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
create schema if not exists auth;
create schema if not exists realtime;
grant usage on schema public, extensions, auth, realtime to anon, authenticated, service_role;

-- Supabase grants the API roles everything in `public` by default; migrations are
-- expected to take back what they do not mean to give. Mirroring that here is what
-- makes the tests prove our revokes.
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

create table if not exists auth.users (
  id uuid primary key,
  email text,
  raw_user_meta_data jsonb not null default '{}',
  created_at timestamptz not null default now()
);

do $$
begin
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $f$;
  end if;
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $f$;
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $f$;
  end if;
end $$;
grant execute on function auth.uid(), auth.jwt(), auth.role() to anon, authenticated, service_role;

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

    -- Local stand-in for Realtime reading the WAL: NOTIFY is delivered at commit,
    -- in commit order, and never for a rolled-back transaction, which is exactly
    -- the guarantee the contract makes. NOTIFY payloads stop at 8000 bytes, so a
    -- large message is announced by id and read back by the local server.
    create function realtime.notify_local_stack() returns trigger language plpgsql as $f$
    declare
      v_message text := json_build_object(
        'id', new.id, 'topic', new.topic, 'event', new.event,
        'private', new.private, 'extension', new.extension, 'payload', new.payload)::text;
    begin
      if octet_length(v_message) < 7900 then
        perform pg_notify('realtime_local', v_message);
      else
        perform pg_notify('realtime_local', json_build_object('id', new.id, 'large', true)::text);
      end if;
      return null;
    end $f$;
    create trigger notify_local_stack after insert on realtime.messages
      for each row execute function realtime.notify_local_stack();
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
