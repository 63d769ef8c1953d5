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
  v_lines record := pos.cart_lines(p_cart_id);
  v_cart pos.carts;
  v_snapshot jsonb;
begin
  with bumped as (
    update pos.carts c
       set version = c.version + 1, updated_at = now(),
           subtotal_cents = v_lines.subtotal_cents, item_count = v_lines.item_count
     where c.id = p_cart_id
    returning c.*
  ), event as (
    insert into pos.cart_events (cart_id, version, kind, actor_id, data)
    select b.id, b.version, p_kind, auth.uid(), coalesce(p_data, '{}'::jsonb) from bumped b
  )
  select b.* into v_cart from bumped b;
  v_snapshot := pos.cart_json(v_cart, v_lines.items);
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
