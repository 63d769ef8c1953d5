-- SECURITY DEFINER: it writes pos.alert_history, which no client role may write;
-- pos.assert_ops_caller refuses anyone but service_role and the database's own
-- roles (pg_cron). Runs every minute where pg_cron is installed; elsewhere call
-- it from any scheduler. Returns {opened, closed, open}.
create function public.check_alerts()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pos.assert_ops_caller();
  return pos.check_alerts(now());
end;
$$;
grant execute on function public.check_alerts() to authenticated, service_role;
