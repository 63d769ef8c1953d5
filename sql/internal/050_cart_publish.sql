-- Every committed cart change ends here: totals recomputed from the lines
-- (invariant 3), version + 1 with exactly one event (invariant 4), and the
-- snapshot broadcast in the same transaction, so a rollback sends nothing.
-- The caller holds the cart row lock.
create function pos.publish_cart_change(p_cart_id uuid, p_kind text, p_data jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_version bigint;
begin
  update pos.carts c
     set version = c.version + 1,
         updated_at = now(),
         subtotal_cents = totals.subtotal_cents,
         item_count = totals.item_count
    from (select coalesce(sum(i.quantity * i.unit_price_cents), 0) as subtotal_cents,
                 coalesce(sum(i.quantity), 0) as item_count
            from pos.cart_items i where i.cart_id = p_cart_id) totals
   where c.id = p_cart_id
  returning c.version into v_version;
  return pos.record_cart_event(p_cart_id, v_version, p_kind, p_data);
end;
$$;

create function pos.record_cart_event(p_cart_id uuid, p_version bigint, p_kind text, p_data jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_snapshot jsonb;
begin
  insert into pos.cart_events (cart_id, version, kind, actor_id, data)
  values (p_cart_id, p_version, p_kind, auth.uid(), coalesce(p_data, '{}'::jsonb));
  v_snapshot := pos.cart_snapshot(p_cart_id);
  perform realtime.send(v_snapshot, 'cart_updated', 'cart:' || p_cart_id::text, true);
  return v_snapshot;
end;
$$;
