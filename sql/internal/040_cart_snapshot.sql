-- The contract's cart snapshot, without the lock token, for reads: pos.cart_lines
-- (the lines and their totals, one scan), pos.cart_json (the shape, from a cart
-- row and its lines) and pos.cart_snapshot (both). A mutation builds the same
-- shape inside its one statement (pos.publish_cart_change), from what it already
-- holds; tests/db/snapshot.test.ts holds the two equal. A lock past its expires_at counts as released everywhere, so it shows
-- as `active`, lock null, even before a mutation or expire_cart_locks records
-- the release.
-- PL/pgSQL, not SQL, here and in the other hot helpers: Postgres 17 plans a SQL
-- function that has a SET clause afresh on every call (168 µs for the snapshot);
-- PL/pgSQL keeps its plans for the session.

-- The lines in the order they were first added, with the totals they make
-- (invariant 3): the snapshot's items and the cart's totals from one scan.
create function pos.cart_lines(
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
create function pos.cart_json(p_cart pos.carts, p_items jsonb)
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
create function pos.cart_snapshot(p_cart_id uuid)
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
