-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.update_cart_lock(
  p_cart_id uuid,
  p_lock_token uuid,
  p_checkout_ref text,
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
  if p_checkout_ref is null then
    perform pos.raise('invalid_input', 'A checkout ref is required.');
  end if;
  perform pos.assert_name_text(p_checkout_ref, 'A checkout ref', 200);
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_keyed := pos.keyed_open('update_cart_lock', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_lock_token, p_checkout_ref, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  v_cart := pos.lock_cart_row_for_token(p_cart_id, p_lock_token, p_expected_version);
  update pos.carts c set lock_checkout_ref = p_checkout_ref where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'lock_updated', jsonb_build_object(
    'checkout_ref_before', v_cart.lock_checkout_ref, 'checkout_ref', p_checkout_ref));
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.update_cart_lock(uuid, uuid, text, bigint, text) to authenticated, service_role;
