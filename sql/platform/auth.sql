-- Supabase Auth's (GoTrue's) part of a Supabase database, for the local stack:
-- the `auth` schema owned by supabase_auth_admin, the tables the local Auth
-- endpoint (scripts/local/auth.ts) reads and writes, with GoTrue's column names,
-- and the helpers RLS policies call. Run by the superuser after bootstrap.sql.
-- Everything is created only where missing, so on a Supabase database (where
-- GoTrue's own migrations made these) it changes nothing.

do $$
begin
  if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then
    -- As on Supabase: GoTrue's login role; locally it connects without a password.
    create role supabase_auth_admin noinherit createrole login noreplication;
  end if;
end $$;

create schema if not exists auth authorization supabase_auth_admin;
alter schema auth owner to supabase_auth_admin;
create schema if not exists extensions;
-- GoTrue hashes with bcrypt; pgcrypto's crypt() with a 'bf' salt produces and
-- checks the same $2a$ hashes, so one hash works in both.
create extension if not exists pgcrypto with schema extensions;
grant usage on schema extensions to supabase_auth_admin, postgres;
grant usage on schema auth to anon, authenticated, service_role, postgres;

create table if not exists auth.users (
  id uuid primary key,
  email text,
  raw_user_meta_data jsonb not null default '{}',
  created_at timestamptz not null default now()
);
-- The GoTrue columns onecart's local Auth uses (a subset of GoTrue's table).
alter table auth.users
  add column if not exists instance_id uuid,
  add column if not exists aud varchar(255),
  add column if not exists role varchar(255),
  add column if not exists encrypted_password varchar(255),
  add column if not exists email_confirmed_at timestamptz,
  add column if not exists last_sign_in_at timestamptz,
  add column if not exists raw_app_meta_data jsonb,
  add column if not exists updated_at timestamptz,
  add column if not exists phone text,
  add column if not exists banned_until timestamptz,
  add column if not exists deleted_at timestamptz,
  add column if not exists is_anonymous boolean not null default false;
create unique index if not exists users_email_partial_key on auth.users (lower(email)) where email is not null;

create table if not exists auth.sessions (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz,
  updated_at timestamptz,
  aal text,
  not_after timestamptz,
  refreshed_at timestamp,
  user_agent text,
  ip inet
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);

create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id bigserial primary key,
  token varchar(255) unique,
  user_id varchar(255),
  revoked boolean,
  created_at timestamptz,
  updated_at timestamptz,
  parent varchar(255),
  session_id uuid references auth.sessions (id) on delete cascade
);
create index if not exists refresh_tokens_session_id_revoked_idx on auth.refresh_tokens (session_id, revoked);

alter table auth.users owner to supabase_auth_admin;
alter table auth.sessions owner to supabase_auth_admin;
alter table auth.refresh_tokens owner to supabase_auth_admin;
-- As on Supabase, the project's `postgres` role reads and writes Auth's users
-- (the seed inserts the fixture's staff users; Studio lists them).
grant all on auth.users, auth.sessions, auth.refresh_tokens to postgres;
grant all on sequence auth.refresh_tokens_id_seq to postgres;

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
alter function auth.jwt() owner to supabase_auth_admin;
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.jwt(), auth.role() to anon, authenticated, service_role, postgres;
