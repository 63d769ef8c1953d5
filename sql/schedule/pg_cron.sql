-- Where pg_cron is installed (Supabase: Database > Extensions > pg_cron), expired
-- locks are released every minute even if no one touches the cart, and old
-- idempotency keys are dropped after a week. Without pg_cron, call
-- public.expire_cart_locks() from any scheduler as service_role.
do $$
begin
  if exists (select from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('onecart-expire-cart-locks', '* * * * *', 'select public.expire_cart_locks()');
    perform cron.schedule('onecart-purge-idempotency-keys', '17 3 * * *',
      'delete from pos.idempotency_keys where created_at < now() - interval ''7 days''');
  else
    raise notice 'pg_cron is not installed: schedule public.expire_cart_locks() elsewhere';
  end if;
end $$;
