-- SECURITY DEFINER: clients have no write grant; pos.ops_cart_row checks the
-- caller is service_role or an owner or manager of the cart's store first.
-- The lock's token is kept, as when a lock expires: a payment that went through
-- while the lock was stuck can still complete if no item changes meanwhile. A
-- cart that holds no lock comes back unchanged, so a retried release is harmless.
create function public.release_cart_lock(p_cart_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart pos.carts := pos.ops_cart_row(p_cart_id, p_reason);
begin
  perform pos.assert_cart_open(v_cart);
  if v_cart.status <> 'locked' then
    return pos.cart_snapshot(p_cart_id);
  end if;
  update pos.carts c set status = 'active', lock_expires_at = least(c.lock_expires_at, now())
   where c.id = p_cart_id;
  return pos.publish_cart_change(p_cart_id, 'unlocked', jsonb_build_object(
    'by_ops', true, 'reason', p_reason, 'checkout_ref', v_cart.lock_checkout_ref,
    'locked_version', v_cart.locked_version, 'expires_at', v_cart.lock_expires_at,
    'lock_had_expired', v_cart.lock_expires_at <= now()));
end;
$$;
grant execute on function public.release_cart_lock(uuid, text) to authenticated, service_role;
