-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.lock_cart(
  p_cart_id uuid,
  p_checkout_ref text default null,
  p_ttl_seconds integer default 600,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ttl integer := coalesce(p_ttl_seconds, 600);
  v_keyed pos.keyed_mutation;
  v_store_id uuid;
  v_response jsonb;
  v_cart pos.carts;
begin
  if p_cart_id is null then
    perform pos.raise('invalid_input', 'A cart is required.');
  end if;
  if v_ttl not between 1 and 3600 then
    perform pos.raise('invalid_input', 'A lock lasts 1 to 3600 seconds.');
  end if;
  perform pos.assert_name_text(p_checkout_ref, 'A checkout ref', 200);
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_keyed := pos.keyed_open('lock_cart', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_checkout_ref, p_ttl_seconds, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  v_cart := pos.lock_cart_row(p_cart_id, p_expected_version, p_checkout_ref);
  if v_cart.status = 'active' then
    if v_cart.item_count = 0 then
      perform pos.raise('cart_empty', 'An empty cart cannot be locked.');
    end if;
    update pos.carts c
       set status = 'locked',
           lock_token = gen_random_uuid(),
           lock_checkout_ref = p_checkout_ref,
           lock_expires_at = now() + make_interval(secs => v_ttl),
           locked_version = c.version + 1,
           lock_total_cents = c.subtotal_cents
     where c.id = p_cart_id
    returning * into v_cart;
    v_response := pos.publish_cart_change(p_cart_id, 'locked', jsonb_build_object(
      'checkout_ref', p_checkout_ref, 'expires_at', v_cart.lock_expires_at, 'total_cents', v_cart.lock_total_cents));
  else
    -- The same checkout asking again: the lock it already holds.
    v_response := pos.cart_snapshot(p_cart_id);
  end if;
  -- Only the caller of lock_cart ever sees the token.
  v_response := jsonb_set(v_response, '{lock,token}', to_jsonb(v_cart.lock_token));
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.lock_cart(uuid, text, integer, bigint, text) to authenticated, service_role;
