-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- speed up cart publish: from sql/internal/040_cart_snapshot.sql, sql/internal/050_cart_publish.sql, sql/rpc/add_item.sql
-- Why: A cart mutation reads each thing once under the cart's row lock: one statement scans the lines
-- once for totals and the snapshot's items, bumps the version, writes the event and builds the
-- snapshot from the row it returns; add_item skips idempotency work when no key is given.
-- The contract's cart snapshot, without the lock token, for reads: pos.cart_lines
-- (the lines and their totals, one scan), pos.cart_json (the shape, from a cart
-- row and its lines) and pos.cart_snapshot (both). A mutation builds the same
-- shape inside its one statement (pos.publish_cart_change), from what it already
-- holds; tests/snapshot.test.ts holds the two equal. A lock past its expires_at counts as released everywhere, so it shows
-- as `active`, lock null, even before a mutation or expire_cart_locks records
-- the release.
-- PL/pgSQL, not SQL, here and in the other hot helpers: Postgres 17 plans a SQL
-- function that has a SET clause afresh on every call (168 µs for the snapshot);
-- PL/pgSQL keeps its plans for the session.

-- The lines in the order they were first added, with the totals they make
-- (invariant 3): the snapshot's items and the cart's totals from one scan.
create or replace function pos.cart_lines(
  p_cart_id uuid,
  out items jsonb,
  out subtotal_cents bigint,
  out item_count bigint
)
language plpgsql
stable
set search_path = ''
as $$
begin
  -- The name and price were captured on the line when it was added: no join.
  select coalesce(jsonb_agg(jsonb_build_object(
             'id', i.id,
             'product_id', i.product_id,
             'name', i.name,
             'quantity', i.quantity,
             'unit_price_cents', i.unit_price_cents,
             'line_total_cents', i.quantity * i.unit_price_cents,
             'options', i.options)
           order by i.line_no), '[]'::jsonb),
         coalesce(sum(i.quantity * i.unit_price_cents), 0),
         coalesce(sum(i.quantity), 0)
    into items, subtotal_cents, item_count
    from pos.cart_items i
   where i.cart_id = p_cart_id;
end;
$$;
-- Granted like pos.cart_snapshot: the read RPCs run as the caller.
grant execute on function pos.cart_lines(uuid) to authenticated, service_role;

-- The snapshot of a cart row whose lines are `p_items` (from pos.cart_lines).
create or replace function pos.cart_json(p_cart pos.carts, p_items jsonb)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_live_lock boolean := p_cart.status = 'locked' and p_cart.lock_expires_at > now();
begin
  return jsonb_build_object(
    'id', p_cart.id,
    'store_id', p_cart.store_id,
    'location_id', p_cart.location_id,
    'customer_id', p_cart.customer_id,
    'device_id', p_cart.device_id,
    'status', case when p_cart.status = 'locked' and not v_live_lock then 'active' else p_cart.status end,
    'version', p_cart.version,
    'items', p_items,
    'item_count', p_cart.item_count,
    'subtotal_cents', p_cart.subtotal_cents,
    'lock', case when v_live_lock then jsonb_build_object(
      'expires_at', p_cart.lock_expires_at,
      'checkout_ref', p_cart.lock_checkout_ref,
      'locked_version', p_cart.locked_version,
      'total_cents', p_cart.lock_total_cents) end,
    'merged_into', p_cart.merged_into,
    'created_at', p_cart.created_at,
    'updated_at', p_cart.updated_at);
end;
$$;
grant execute on function pos.cart_json(pos.carts, jsonb) to authenticated, service_role;

-- The snapshot as it stands, for reads; null when there is no such cart.
create or replace function pos.cart_snapshot(p_cart_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_cart pos.carts;
begin
  select * into v_cart from pos.carts c where c.id = p_cart_id;
  if not found then
    return null;
  end if;
  return pos.cart_json(v_cart, (pos.cart_lines(p_cart_id)).items);
end;
$$;
grant execute on function pos.cart_snapshot(uuid) to authenticated, service_role;

-- Every committed cart change ends here, under the cart's row lock: totals
-- recomputed from the lines (invariant 3), version + 1 with exactly one event
-- (invariant 4), and the snapshot broadcast in the same transaction, so a
-- rollback sends nothing.
-- Everything here runs while other devices wait for the cart, so it reads each
-- thing once: one scan of the lines gives both the totals and the snapshot's
-- items, one statement bumps the version, stores the totals and writes the
-- event, and the snapshot is built from the row that statement returns rather
-- than read back.
create or replace function pos.publish_cart_change(p_cart_id uuid, p_kind text, p_data jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_snapshot jsonb;
begin
  -- One statement: the lines' totals and items (one scan), the version bump,
  -- the event, and the snapshot of the row the bump returns. The snapshot's
  -- shape is pos.cart_json's, written out here to save two function calls per
  -- change; tests/snapshot.test.ts holds the two equal after every kind of change.
  with lines as (
    select coalesce(jsonb_agg(jsonb_build_object(
               'id', i.id,
               'product_id', i.product_id,
               'name', i.name,
               'quantity', i.quantity,
               'unit_price_cents', i.unit_price_cents,
               'line_total_cents', i.quantity * i.unit_price_cents,
               'options', i.options)
             order by i.line_no), '[]'::jsonb) as items,
           coalesce(sum(i.quantity * i.unit_price_cents), 0) as subtotal_cents,
           coalesce(sum(i.quantity), 0) as item_count
      from pos.cart_items i
     where i.cart_id = p_cart_id
  ), bumped as (
    update pos.carts c
       set version = c.version + 1, updated_at = now(),
           subtotal_cents = lines.subtotal_cents, item_count = lines.item_count
      from lines
     where c.id = p_cart_id
    returning c.*, lines.items, c.status = 'locked' and c.lock_expires_at > now() as live_lock
  ), event as (
    insert into pos.cart_events (cart_id, version, kind, actor_id, data)
    select b.id, b.version, p_kind, auth.uid(), coalesce(p_data, '{}'::jsonb) from bumped b
  )
  select jsonb_build_object(
      'id', b.id,
      'store_id', b.store_id,
      'location_id', b.location_id,
      'customer_id', b.customer_id,
      'device_id', b.device_id,
      'status', case when b.status = 'locked' and not b.live_lock then 'active' else b.status end,
      'version', b.version,
      'items', b.items,
      'item_count', b.item_count,
      'subtotal_cents', b.subtotal_cents,
      'lock', case when b.live_lock then jsonb_build_object(
        'expires_at', b.lock_expires_at,
        'checkout_ref', b.lock_checkout_ref,
        'locked_version', b.locked_version,
        'total_cents', b.lock_total_cents) end,
      'merged_into', b.merged_into,
      'created_at', b.created_at,
      'updated_at', b.updated_at)
    into v_snapshot
    from bumped b;
  perform realtime.send(v_snapshot, 'cart_updated', 'cart:' || p_cart_id::text, true);
  return v_snapshot;
end;
$$;

-- A new cart: version 1 and its `created` event.
create or replace function pos.record_cart_created(p_cart_id uuid, p_data jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  insert into pos.cart_events (cart_id, version, kind, actor_id, data)
  values (p_cart_id, 1, 'created', auth.uid(), p_data);
  return pos.broadcast_cart(p_cart_id);
end;
$$;

-- The snapshot as it stands, sent on cart:<id> and returned to the caller.
create or replace function pos.broadcast_cart(p_cart_id uuid)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_snapshot jsonb := pos.cart_snapshot(p_cart_id);
begin
  perform realtime.send(v_snapshot, 'cart_updated', 'cart:' || p_cart_id::text, true);
  return v_snapshot;
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
  v_request jsonb;
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
  -- Without a key there is nothing to replay or record: the request is built,
  -- and the key table touched, only for a key.
  if p_idempotency_key is not null then
    v_request := jsonb_build_object('rpc', 'add_item', 'cart_id', p_cart_id, 'product_id', p_product_id,
      'quantity', p_quantity, 'options', p_options, 'expected_version', p_expected_version);
    v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
    if v_response is not null then
      return v_response;
    end if;
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
  if p_idempotency_key is not null then
    perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  end if;
  return v_response;
end;
$$;
grant execute on function public.add_item(uuid, uuid, integer, jsonb, bigint, text) to authenticated, service_role;

alter default privileges grant execute on functions to public;
