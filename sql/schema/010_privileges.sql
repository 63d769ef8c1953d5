-- Nothing is callable unless a migration grants it by full signature. Supabase
-- grants EXECUTE on every new function in `public` to anon and authenticated by
-- default; Postgres grants it to PUBLIC everywhere.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from public, anon, authenticated;

create schema pos;
comment on schema pos is 'onecart tables and internals. Not exposed by PostgREST; clients use the RPCs in public.';
revoke all on schema pos from public;
grant usage on schema pos to authenticated, service_role;
