-- SECURITY DEFINER: clients have no write grant; pos.cart_target checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.add_item(
  p_cart_id uuid,
  p_product_id uuid,
  p_quantity integer default 1,
  p_options jsonb default '{}',
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_options jsonb := '{}';
  v_keyed pos.keyed_mutation;
  v_target record;
  v_response jsonb;
  v_cart pos.carts;
  v_item_id uuid;
  v_quantity integer;
  v_new_line boolean;
begin
  if p_cart_id is null or p_product_id is null then
    perform pos.raise('invalid_input', 'A cart and a product are required.');
  end if;
  if p_quantity is null or p_quantity not between 1 and 999 then
    perform pos.raise('invalid_input', 'Quantity is 1 to 999 per call.');
  end if;
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
  end if;
  -- Most lines have no options: nothing to check for them.
  if p_options is distinct from '{}'::jsonb then
    v_options := pos.checked_options(p_options);
  end if;

  -- The cart's store, the caller's access and the product in one probe.
  v_target := pos.cart_target(p_cart_id, p_product_id);
  v_keyed := pos.keyed_open('add_item', v_target.store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_product_id, p_quantity, p_options, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;
  if v_target.product_name is null then
    perform pos.raise('not_found', 'No such product.');
  end if;

  -- Everything above needs no lock and runs before the cart's row lock is
  -- taken: every microsecond under it is a microsecond no other device can add.
  v_cart := pos.lock_cart_row(p_cart_id, p_expected_version);
  -- A tap usually adds to a line that is already there: an update writes it once,
  -- where insert … on conflict would first try the insert (the generated key, the
  -- checks, the speculative index entry) and then update. Under the cart's row
  -- lock no other request can add or remove a line of this cart in between.
  update pos.cart_items i set quantity = i.quantity + p_quantity
   where i.cart_id = p_cart_id and i.product_id = p_product_id
     and i.options_key = md5(v_options::text)::uuid and i.options = v_options
  returning i.id, i.quantity into v_item_id, v_quantity;
  v_new_line := not found;
  if v_new_line then
    insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents, options)
    values (p_cart_id, p_product_id, v_target.product_name, p_quantity, v_target.product_price_cents, v_options)
    on conflict (cart_id, product_id, options_key) do nothing
    returning id, quantity into v_item_id, v_quantity;
    if v_item_id is null then
      -- A line with other options under the same hash: never merge them.
      perform pos.raise('invalid_input',
        'These options cannot be told apart from another line''s; change them slightly.');
    end if;
  end if;
  -- Checked after the write, which the raise rolls back: the line's quantity is
  -- known only once the row is locked, and the count matters only for a new line.
  if v_quantity > 9999 then
    perform pos.raise('limit_exceeded', format('A line holds at most 9,999 units; this add would make it %s.',
      v_quantity), jsonb_build_object('max_quantity', 9999, 'quantity', v_quantity - p_quantity));
  end if;
  if v_new_line and (select count(*) from pos.cart_items i where i.cart_id = p_cart_id) > 200 then
    perform pos.raise('limit_exceeded', 'A cart holds at most 200 lines.', jsonb_build_object('max_lines', 200));
  end if;

  v_response := pos.publish_cart_change(p_cart_id, 'item_added', jsonb_build_object(
    'item_id', v_item_id, 'product_id', p_product_id, 'quantity', p_quantity, 'options', v_options));
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.add_item(uuid, uuid, integer, jsonb, bigint, text) to authenticated, service_role;
