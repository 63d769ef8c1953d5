-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- limit cart input: from sql/internal/110_options.sql, sql/internal/090_fold_cart.sql, sql/rpc/add_item.sql, sql/rpc/set_item_quantity.sql, sql/rpc/get_or_create_cart.sql, sql/rpc/lock_cart.sql, sql/rpc/update_cart_lock.sql, sql/rpc/complete_checkout.sql
-- Why: Options over ~2.7 KB could not be indexed (a 500), deep or huge-number options were lost or
-- crashed the parse, and nothing bounded a line's units or a cart's lines. Options are now at most 1
-- KiB and 4 levels, stored canonically and keyed by a hash; contract v1.1's limit_exceeded bounds
-- lines (9,999 units) and carts (200 lines).
insert into pos.errors (code, http_status, description) values
  ('limit_exceeded', 422, 'a line over 9,999 units, or a cart over 200 lines');
-- A line's options are what a POS prints on it ("size": "L", "note": "no foam"):
-- a JSON object of at most 1 KiB (as onecart stores and returns it) nested at
-- most 4 levels deep. They are refused, never altered, when a device could not
-- read them back as sent: a number a JSON client cannot hold exactly (more than
-- 15 significant digits, or a magnitude past 1e300 or below 1e-300) or a U+FFFD,
-- which is what a lone surrogate or a broken byte becomes on the way in.
-- Equal numbers are stored one way (1.0 and 1.00 as 1, as every JSON client
-- reads them), so two adds of the same options land on the same line whatever
-- notation each device used. Returns the options as they are stored.
create or replace function pos.checked_options(p_options jsonb)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_number numeric;
  v_digits text;
  v_has_numbers boolean := false;
begin
  if p_options is null then
    return '{}'::jsonb;
  end if;
  if jsonb_typeof(p_options) <> 'object' then
    perform pos.raise('invalid_input', 'Options are a JSON object.');
  end if;
  if p_options = '{}'::jsonb then
    return p_options;
  end if;
  if octet_length(p_options::text) > 1024 then
    perform pos.raise('invalid_input', 'Options are at most 1 KiB of JSON.', jsonb_build_object('max_bytes', 1024));
  end if;
  -- Level 0 is the options object itself: a container at level 4 is a fifth level.
  if p_options @? 'strict $.**{4 to last} ? (@.type() == "object" || @.type() == "array")' then
    perform pos.raise('invalid_input', 'Options nest at most 4 levels deep.', jsonb_build_object('max_depth', 4));
  end if;
  if strpos(p_options::text, U&'\FFFD') > 0 then
    perform pos.raise('invalid_input',
      'Options hold a character that did not arrive intact (a lone surrogate or a broken byte).');
  end if;
  for v_number in
    select (n #>> '{}')::numeric from jsonb_path_query(p_options, 'strict $.** ? (@.type() == "number")') n
  loop
    v_has_numbers := true;
    v_digits := trim(both '0' from replace(trim_scale(abs(v_number))::text, '.', ''));
    if length(v_digits) > 15 or abs(v_number) >= 1e300 or (v_number <> 0 and abs(v_number) < 1e-300) then
      perform pos.raise('invalid_input',
        'Numbers in options have at most 15 significant digits and a magnitude between 1e-300 and 1e300.');
    end if;
  end loop;
  if v_has_numbers then
    return pos.canonical_json(p_options);
  end if;
  return p_options;
end;
$$;

-- Numbers without trailing zeros of scale, everything else as it is. Recursive,
-- so only for values whose depth is already bounded.
create or replace function pos.canonical_json(p_value jsonb)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
  case jsonb_typeof(p_value)
    when 'object' then
      return coalesce((select jsonb_object_agg(e.key, pos.canonical_json(e.value)) from jsonb_each(p_value) e),
        '{}'::jsonb);
    when 'array' then
      return coalesce((select jsonb_agg(pos.canonical_json(e.value) order by e.ordinality)
                         from jsonb_array_elements(p_value) with ordinality e), '[]'::jsonb);
    when 'number' then
      return to_jsonb(trim_scale(p_value::numeric));
    else
      return p_value;
  end case;
end;
$$;

-- Text a client names something with (a device id, a checkout ref): 1 to
-- p_max_length characters, and no U+FFFD (see above).
create or replace function pos.assert_name_text(p_value text, p_what text, p_max_length integer)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_value is null then
    return;
  end if;
  if length(p_value) not between 1 and p_max_length then
    perform pos.raise('invalid_input', format('%s is 1 to %s characters.', p_what, p_max_length),
      jsonb_build_object('max_length', p_max_length));
  end if;
  if strpos(p_value, U&'\FFFD') > 0 then
    perform pos.raise('invalid_input', format('%s holds a character that did not arrive intact.', p_what));
  end if;
end;
$$;

-- Moves every line of one open cart into another (quantities added where the
-- product and options match; the surviving line keeps its price), closes the
-- first as `merged`, and repoints its queue entries. Both carts get a version
-- and a `merged` event. The caller holds both row locks.
create or replace function pos.fold_cart(p_from uuid, p_into uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_items jsonb;
  v_location_id uuid;
begin
  select coalesce(jsonb_agg(jsonb_build_object(
           'product_id', i.product_id, 'quantity', i.quantity,
           'unit_price_cents', i.unit_price_cents, 'options', i.options) order by i.line_no), '[]')
    into v_items
    from pos.cart_items i where i.cart_id = p_from;

  insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents, options, added_at)
  select p_into, i.product_id, i.name, i.quantity, i.unit_price_cents, i.options, i.added_at
    from pos.cart_items i where i.cart_id = p_from
   order by i.line_no
  on conflict (cart_id, product_id, options_key)
  do update set quantity = pos.cart_items.quantity + excluded.quantity;
  delete from pos.cart_items i where i.cart_id = p_from;

  update pos.carts c set status = 'merged', merged_into = p_into
   where c.id = p_from
  returning c.location_id into v_location_id;
  perform pos.publish_cart_change(p_from, 'merged', jsonb_build_object('merged_into', p_into, 'items', v_items));
  perform pos.publish_cart_change(p_into, 'merged', jsonb_build_object('merged_from', p_from, 'items', v_items));

  update pos.queue_entries e set cart_id = p_into where e.cart_id = p_from;
  if found then
    perform pos.publish_queue(v_location_id);
  end if;
end;
$$;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.add_item(
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
  v_options jsonb;
  v_request jsonb := jsonb_build_object('rpc', 'add_item', 'cart_id', p_cart_id, 'product_id', p_product_id,
    'quantity', p_quantity, 'options', p_options, 'expected_version', p_expected_version);
  v_store_id uuid;
  v_response jsonb;
  v_product pos.products;
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
  v_options := pos.checked_options(p_options);

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  -- Everything that needs no lock happens before the cart's row lock is taken:
  -- every microsecond under it is a microsecond no other device can add.
  select * into v_product from pos.products p
   where p.id = p_product_id and p.store_id = v_store_id and p.active;
  if not found then
    perform pos.raise('not_found', 'No such product.');
  end if;

  perform pos.lock_cart_row(p_cart_id, p_expected_version);
  insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents, options)
  values (p_cart_id, p_product_id, v_product.name, p_quantity, v_product.price_cents, v_options)
  on conflict (cart_id, product_id, options_key)
  do update set quantity = pos.cart_items.quantity + excluded.quantity
   where pos.cart_items.options = excluded.options
  returning id, quantity, xmax = 0 into v_item_id, v_quantity, v_new_line;
  if v_item_id is null then
    -- Two different options with one hash: never merge them.
    perform pos.raise('invalid_input', 'These options cannot be told apart from another line''s; change them slightly.');
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
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.add_item(uuid, uuid, integer, jsonb, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.set_item_quantity(
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
  v_request jsonb := jsonb_build_object('rpc', 'set_item_quantity', 'cart_id', p_cart_id, 'item_id', p_item_id,
    'quantity', p_quantity, 'expected_version', p_expected_version);
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

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  perform pos.lock_cart_row(p_cart_id, p_expected_version);
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
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.set_item_quantity(uuid, uuid, integer, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant on pos.carts; pos.open_cart
-- checks the caller is staff of the location's store before anything else.
create or replace function public.get_or_create_cart(
  p_location_id uuid,
  p_customer_id uuid default null,
  p_device_id text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart_id uuid;
begin
  if p_location_id is null then
    perform pos.raise('invalid_input', 'A location is required.');
  end if;
  if p_customer_id is null and p_device_id is null then
    perform pos.raise('invalid_input', 'A cart needs a customer or a device.');
  end if;
  perform pos.assert_name_text(p_device_id, 'A device id', 200);
  -- Two statements: a STABLE function in the same expression as the insert
  -- would read the snapshot from before it.
  v_cart_id := pos.open_cart(p_location_id, p_customer_id, p_device_id);
  return pos.cart_snapshot(v_cart_id);
end;
$$;
grant execute on function public.get_or_create_cart(uuid, uuid, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.lock_cart(
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
  v_request jsonb := jsonb_build_object('rpc', 'lock_cart', 'cart_id', p_cart_id, 'checkout_ref', p_checkout_ref,
    'ttl_seconds', p_ttl_seconds, 'expected_version', p_expected_version);
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

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
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
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.lock_cart(uuid, text, integer, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.update_cart_lock(
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
  v_request jsonb := jsonb_build_object('rpc', 'update_cart_lock', 'cart_id', p_cart_id, 'lock_token', p_lock_token,
    'checkout_ref', p_checkout_ref, 'expected_version', p_expected_version);
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

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  v_cart := pos.lock_cart_row_for_token(p_cart_id, p_lock_token, p_expected_version);
  update pos.carts c set lock_checkout_ref = p_checkout_ref where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'lock_updated', jsonb_build_object(
    'checkout_ref_before', v_cart.lock_checkout_ref, 'checkout_ref', p_checkout_ref));
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.update_cart_lock(uuid, uuid, text, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.complete_checkout(
  p_cart_id uuid,
  p_lock_token uuid,
  p_checkout_ref text,
  p_paid_total_cents bigint,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request jsonb := jsonb_build_object('rpc', 'complete_checkout', 'cart_id', p_cart_id, 'lock_token', p_lock_token,
    'checkout_ref', p_checkout_ref, 'paid_total_cents', p_paid_total_cents, 'expected_version', p_expected_version);
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
  if p_paid_total_cents is null or p_paid_total_cents < 0 then
    perform pos.raise('invalid_input', 'The paid total is a non-negative number of cents.');
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  -- No lazy release of an expired lock here: its token may still complete.
  v_cart := pos.cart_row_for_update(p_cart_id);
  if v_cart.status = 'checked_out' and v_cart.lock_token = p_lock_token and v_cart.checkout_ref = p_checkout_ref then
    -- The payment terminal retrying a checkout that already went through.
    return pos.cart_snapshot(p_cart_id);
  end if;
  perform pos.assert_cart_open(v_cart);
  if v_cart.lock_token is distinct from p_lock_token then
    perform pos.raise('lock_mismatch', 'This lock token is not the cart''s latest lock.');
  end if;
  perform pos.assert_expected_version(p_expected_version, v_cart.version);
  if exists (
      select 1 from pos.cart_events e
       where e.cart_id = p_cart_id and e.version > v_cart.locked_version
         and e.kind in ('item_added', 'item_quantity_set', 'item_removed', 'merged')) then
    perform pos.raise('cart_changed', 'The lock expired and the cart changed before checkout.',
      jsonb_build_object('locked_version', v_cart.locked_version, 'current_version', v_cart.version));
  end if;
  if p_paid_total_cents <> v_cart.lock_total_cents then
    perform pos.raise('total_mismatch',
      format('Paid %s cents, the locked total is %s cents.', p_paid_total_cents, v_cart.lock_total_cents),
      jsonb_build_object('total_cents', v_cart.lock_total_cents));
  end if;

  update pos.carts c
     set status = 'checked_out', checkout_ref = p_checkout_ref, paid_total_cents = p_paid_total_cents,
         checked_out_at = now()
   where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'checked_out', jsonb_build_object(
    'checkout_ref', p_checkout_ref, 'paid_total_cents', p_paid_total_cents, 'locked_version', v_cart.locked_version));

  update pos.queue_entries e
     set status = 'done', finished_at = now()
   where e.location_id = v_cart.location_id and e.customer_id = v_cart.customer_id
     and e.status in ('waiting', 'serving');
  if found then
    perform pos.publish_queue(v_cart.location_id);
  end if;

  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.complete_checkout(uuid, uuid, text, bigint, bigint, text) to authenticated, service_role;

-- Existing lines: numbers stored the canonical way before the text is hashed
-- (the old index compared options as jsonb, where 1.0 = 1, so no two lines of a
-- cart can collide now), then the hash replaces the options in the line key.
update pos.cart_items i set options = pos.canonical_json(i.options)
 where i.options @? 'strict $.** ? (@.type() == "number")'
   and not i.options @? 'strict $.**{16 to last} ? (@.type() == "object" || @.type() == "array")';
alter table pos.cart_items drop constraint cart_items_cart_id_product_id_options_key;
alter table pos.cart_items
  add column options_key uuid not null generated always as (md5(options::text)::uuid) stored;
alter table pos.cart_items
  add constraint cart_items_one_line_per_options unique (cart_id, product_id, options_key);

alter default privileges grant execute on functions to public;
