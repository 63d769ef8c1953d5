-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.unlock_cart(
  p_cart_id uuid,
  p_lock_token uuid,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_keyed pos.keyed_mutation;
  v_store_id uuid;
  v_response jsonb;
  v_cart pos.carts;
begin
  if p_cart_id is null or p_lock_token is null then
    perform pos.raise('invalid_input', 'A cart and a lock token are required.');
  end if;
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_keyed := pos.keyed_open('unlock_cart', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_lock_token, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  v_cart := pos.lock_cart_row_for_token(p_cart_id, p_lock_token, p_expected_version);
  -- The token dies with an explicit unlock: a checkout with it is now stale.
  update pos.carts c
     set status = 'active', lock_token = null, lock_checkout_ref = null, lock_expires_at = null,
         locked_version = null, lock_total_cents = null
   where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'unlocked', jsonb_build_object(
    'checkout_ref', v_cart.lock_checkout_ref, 'locked_version', v_cart.locked_version));
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.unlock_cart(uuid, uuid, bigint, text) to authenticated, service_role;
