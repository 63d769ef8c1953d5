-- Nothing of onecart's is callable unless a migration grants it by full
-- signature. Postgres grants EXECUTE on every new function to PUBLIC; each
-- migration (npm run migration:new) revokes that default only while it creates
-- onecart's functions, so other features of a shared project keep it.
alter default privileges in schema public revoke execute on functions from public, anon, authenticated;

create schema pos;
comment on schema pos is 'onecart tables and internals. Not exposed by PostgREST; clients use the RPCs in public.';
revoke all on schema pos from public;
grant usage on schema pos to authenticated, service_role;
