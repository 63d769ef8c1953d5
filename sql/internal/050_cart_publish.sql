-- Every committed cart change ends here: totals recomputed from the lines
-- (invariant 3), version + 1 with exactly one event (invariant 4) in one
-- statement, and the snapshot broadcast in the same transaction, so a rollback
-- sends nothing. The caller holds the cart row lock.
create function pos.publish_cart_change(p_cart_id uuid, p_kind text, p_data jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  with totals as (
    select coalesce(sum(i.quantity * i.unit_price_cents), 0) as subtotal_cents,
           coalesce(sum(i.quantity), 0) as item_count
      from pos.cart_items i where i.cart_id = p_cart_id
  ), bumped as (
    update pos.carts c
       set version = c.version + 1, updated_at = now(),
           subtotal_cents = totals.subtotal_cents, item_count = totals.item_count
      from totals
     where c.id = p_cart_id
    returning c.id, c.version
  )
  insert into pos.cart_events (cart_id, version, kind, actor_id, data)
  select bumped.id, bumped.version, p_kind, auth.uid(), coalesce(p_data, '{}'::jsonb) from bumped;
  return pos.broadcast_cart(p_cart_id);
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

-- The snapshot, sent on cart:<id> and returned to the caller.
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
