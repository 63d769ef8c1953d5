-- The contract's cart snapshot, without the lock token. A lock past its
-- expires_at counts as released everywhere, so it shows as `active`, lock null,
-- even before a mutation or expire_cart_locks records the release.
-- PL/pgSQL, not SQL, here and in the other hot helpers: Postgres 17 plans a SQL
-- function that has a SET clause afresh on every call (168 µs for this one);
-- PL/pgSQL keeps its plans for the session.
create function pos.cart_snapshot(p_cart_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select jsonb_build_object(
      'id', c.id,
      'store_id', c.store_id,
      'location_id', c.location_id,
      'customer_id', c.customer_id,
      'device_id', c.device_id,
      'status', case when c.status = 'locked' and not live.locked then 'active' else c.status end,
      'version', c.version,
      'items', coalesce((
        select jsonb_agg(jsonb_build_object(
            'id', i.id,
            'product_id', i.product_id,
            'name', i.name,
            'quantity', i.quantity,
            'unit_price_cents', i.unit_price_cents,
            'line_total_cents', i.quantity * i.unit_price_cents,
            'options', i.options)
          order by i.line_no)
        from pos.cart_items i
        join pos.products p on p.id = i.product_id
        where i.cart_id = c.id), '[]'::jsonb),
      'item_count', c.item_count,
      'subtotal_cents', c.subtotal_cents,
      'lock', case when live.locked then jsonb_build_object(
        'expires_at', c.lock_expires_at,
        'checkout_ref', c.lock_checkout_ref,
        'locked_version', c.locked_version,
        'total_cents', c.lock_total_cents) end,
      'merged_into', c.merged_into,
      'created_at', c.created_at,
      'updated_at', c.updated_at)
    from pos.carts c
    cross join lateral (select c.status = 'locked' and c.lock_expires_at > now() as locked) live
    where c.id = p_cart_id);
end;
$$;
grant execute on function pos.cart_snapshot(uuid) to authenticated, service_role;
