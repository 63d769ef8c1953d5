-- Where pg_cron is installed (Supabase: Database > Extensions > pg_cron), expired
-- locks are released every minute even if no one touches the cart, and old
-- idempotency keys are dropped after a week; alerts are checked every minute.
-- Without pg_cron, call public.expire_cart_locks() and public.check_alerts()
-- every minute from any scheduler as service_role.
--
-- pg_cron is often enabled after onecart's migrations ran. An event trigger on
-- `create extension` cannot see that on a project: supautils lets `postgres`
-- create event triggers, but skips them while an extension is created (the
-- Dashboard creates it as a superuser). So the schedule is ensured from three
-- places: this migration, the functions (once per instance and every ten
-- minutes after, through their own connection as `postgres`), and by hand with
-- `select pos.ensure_maintenance_schedule()` in the SQL editor.
create function pos.ensure_maintenance_schedule()
returns text[]
language plpgsql
set search_path = ''
as $$
declare
  v_job record;
  v_scheduled text[] := '{}';
begin
  if to_regprocedure('cron.schedule(text, text, text)') is null then
    return v_scheduled;
  end if;
  for v_job in
    select * from (values
      ('onecart-expire-cart-locks', '* * * * *', 'select public.expire_cart_locks()'),
      ('onecart-purge-idempotency-keys', '17 3 * * *',
       'delete from pos.idempotency_keys where created_at < now() - interval ''7 days'''),
      -- Alerts open and close within a minute (docs/operations.md); refusals are
      -- kept as far back as ops.store_health reaches.
      ('onecart-check-alerts', '* * * * *', 'select public.check_alerts()'),
      ('onecart-purge-refusals', '29 3 * * *',
       'delete from pos.refusals where at < now() - interval ''31 days''')
    ) as j(name, schedule, command)
  loop
    -- Only what is missing: a project's own change to a job's schedule stays.
    if not exists (select from cron.job j where j.jobname = v_job.name) then
      perform cron.schedule(v_job.name, v_job.schedule, v_job.command);
      v_scheduled := v_scheduled || v_job.name;
    end if;
  end loop;
  return v_scheduled;
end;
$$;
comment on function pos.ensure_maintenance_schedule() is
  'Schedules onecart''s pg_cron jobs that are missing, if pg_cron is installed; returns the ones it scheduled.';
-- Only the project role: the functions and migrations run as postgres, the owner.

do $$
begin
  if to_regprocedure('cron.schedule(text, text, text)') is null then
    raise notice 'pg_cron is not installed: the functions schedule public.expire_cart_locks() once it is';
  end if;
  perform pos.ensure_maintenance_schedule();
end $$;
