-- Every committed cart change ends here, under the cart's row lock: totals
-- recomputed from the lines (invariant 3), version + 1 with exactly one event
-- (invariant 4), and the snapshot broadcast in the same transaction, so a
-- rollback sends nothing.
-- Everything here runs while other devices wait for the cart, so it reads each
-- thing once: one scan of the lines gives both the totals and the snapshot's
-- items, one statement bumps the version, stores the totals and writes the
-- event, and the snapshot is built from the row that statement returns rather
-- than read back.
create function pos.publish_cart_change(p_cart_id uuid, p_kind text, p_data jsonb)
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
create function pos.record_cart_created(p_cart_id uuid, p_data jsonb)
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
create function pos.broadcast_cart(p_cart_id uuid)
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
