-- Views for a person in Supabase Studio (table editor or SQL editor, schema
-- ops), and the queries the tests assert invariants with. Not exposed by
-- PostgREST; readable by the database's own roles only. Owners read their
-- store's figures and alerts through public.get_store_health and
-- public.list_store_alerts.
create schema ops;
comment on schema ops is 'Operations views over onecart: open them in Supabase Studio.';
revoke all on schema ops from public;
