-- SECURITY DEFINER: clients have no write grant; pos.ops_cart_row checks the
-- caller is service_role or an owner or manager of the cart's store first.
-- Abandoning overrides a lock (its token dies: a checkout with it now answers
-- cart_closed), and the customer's live queue entry at the location is marked
-- `left`, since a queue entry always points at an open cart. An abandoned cart
-- comes back unchanged, so a retried abandon is harmless.
create function public.abandon_cart(p_cart_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart pos.carts := pos.ops_cart_row(p_cart_id, p_reason);
  v_response jsonb;
begin
  if v_cart.status = 'abandoned' then
    return pos.cart_snapshot(p_cart_id);
  end if;
  perform pos.assert_cart_open(v_cart);
  update pos.carts c
     set status = 'abandoned', lock_token = null, lock_checkout_ref = null, lock_expires_at = null,
         locked_version = null, lock_total_cents = null
   where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'abandoned', jsonb_build_object(
    'by_ops', true, 'reason', p_reason, 'previous_status', v_cart.status,
    'lock', case when v_cart.status = 'locked' then jsonb_build_object(
      'checkout_ref', v_cart.lock_checkout_ref, 'locked_version', v_cart.locked_version,
      'expires_at', v_cart.lock_expires_at, 'total_cents', v_cart.lock_total_cents) end));

  perform pos.lock_queue_entries_of(null, null, p_cart_id);
  update pos.queue_entries e
     set status = 'left', finished_at = now()
   where e.cart_id = p_cart_id and e.status in ('waiting', 'serving');
  if found then
    perform pos.publish_queue(v_cart.location_id);
  end if;
  return v_response;
end;
$$;
grant execute on function public.abandon_cart(uuid, text) to authenticated, service_role;
