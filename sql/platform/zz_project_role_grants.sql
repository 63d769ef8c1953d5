-- Applied after every other platform file: what the project role may do with the
-- auth server's objects, as on a project (update-auth-permissions,
-- demote-postgres). Tables of `auth` belong to supabase_auth_admin there,
-- whoever created them here.
do $$
declare
  t regclass;
begin
  for t in
    select c.oid::regclass from pg_class c
     where c.relnamespace = 'auth'::regnamespace and c.relkind in ('r', 'p')
       and c.relowner::regrole::text <> 'supabase_auth_admin'
  loop
    execute format('alter table %s owner to supabase_auth_admin', t);
  end loop;
end $$;
grant all on all tables in schema auth to postgres;
grant all on all sequences in schema auth to postgres;
grant all on all routines in schema auth to postgres;
-- Except the auth server's own migration history (lock_down_postgres_access_to_auth_and_storage).
do $$
begin
  if to_regclass('auth.schema_migrations') is not null then
    revoke all on auth.schema_migrations from postgres;
    grant select on auth.schema_migrations to postgres;
  end if;
end $$;
