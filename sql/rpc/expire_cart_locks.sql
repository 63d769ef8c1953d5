-- SECURITY DEFINER: it releases locks in every store, which no client role may
-- write; pos.assert_ops_caller refuses anyone but service_role and the database's
-- own roles (pg_cron, migrations).
create function public.expire_cart_locks()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart_id uuid;
  v_count integer := 0;
begin
  perform pos.assert_ops_caller();
  -- A cart being mutated right now releases its own lock; skip it rather than wait.
  for v_cart_id in
    select c.id from pos.carts c
     where c.status = 'locked' and c.lock_expires_at <= now()
     order by c.lock_expires_at
     for update skip locked
  loop
    perform pos.release_expired_lock(v_cart_id);
    v_count := v_count + 1;
  end loop;
  return to_jsonb(v_count);
end;
$$;
grant execute on function public.expire_cart_locks() to authenticated, service_role;
