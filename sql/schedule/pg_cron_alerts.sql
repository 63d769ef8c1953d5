-- Where pg_cron is installed, alerts are checked every minute (their openings and
-- closings land in pos.alert_history, which a database webhook can forward to a
-- person; see docs/operations.md), and refusals older than 31 days are dropped,
-- as ops.store_health reaches no further back. Without pg_cron, call
-- public.check_alerts() every minute from any scheduler as service_role.
do $$
begin
  if exists (select from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('onecart-check-alerts', '* * * * *', 'select public.check_alerts()');
    perform cron.schedule('onecart-purge-refusals', '29 3 * * *',
      'delete from pos.refusals where at < now() - interval ''31 days''');
  else
    raise notice 'pg_cron is not installed: schedule public.check_alerts() elsewhere';
  end if;
end $$;
