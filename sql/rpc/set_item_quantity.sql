-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.set_item_quantity(
  p_cart_id uuid,
  p_item_id uuid,
  p_quantity integer,
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
  v_cart pos.carts;
  v_store_id uuid;
  v_response jsonb;
  v_item pos.cart_items;
begin
  if p_cart_id is null or p_item_id is null then
    perform pos.raise('invalid_input', 'A cart and an item are required.');
  end if;
  if p_quantity is null or p_quantity < 0 then
    perform pos.raise('invalid_input', 'Quantity is 0 to 9,999; 0 removes the line.');
  end if;
  if p_quantity > 9999 then
    perform pos.raise('limit_exceeded', 'A line holds at most 9,999 units.', jsonb_build_object('max_quantity', 9999));
  end if;
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_keyed := pos.keyed_open('set_item_quantity', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_item_id, p_quantity, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  v_cart := pos.lock_cart_row(p_cart_id, p_expected_version);
  select * into v_item from pos.cart_items i where i.id = p_item_id and i.cart_id = p_cart_id;
  if not found then
    perform pos.raise('not_found', 'No such item in this cart.');
  end if;

  if p_quantity = 0 then
    delete from pos.cart_items i where i.id = p_item_id;
    v_response := pos.publish_cart_change(p_cart_id, 'item_removed', jsonb_build_object(
      'item_id', p_item_id, 'product_id', v_item.product_id, 'quantity_before', v_item.quantity));
  else
    update pos.cart_items i set quantity = p_quantity where i.id = p_item_id;
    v_response := pos.publish_cart_change(p_cart_id, 'item_quantity_set', jsonb_build_object(
      'item_id', p_item_id, 'product_id', v_item.product_id,
      'quantity_before', v_item.quantity, 'quantity', p_quantity));
  end if;
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.set_item_quantity(uuid, uuid, integer, bigint, text) to authenticated, service_role;
