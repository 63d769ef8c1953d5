-- SECURITY DEFINER: clients have no write grant; pos.ops_cart_row checks the
-- caller is service_role or an owner or manager of the cart's store first.
-- Totals are recomputed from the lines by pos.publish_cart_change, as after every
-- mutation; a `repaired` event (and a version) is recorded only when they were
-- wrong. A cart under a live lock is refused (cart_locked): the payment in flight
-- was priced from those totals, so release the lock first.
create function public.repair_cart_totals(p_cart_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart pos.carts := pos.ops_cart_row(p_cart_id, p_reason);
  v_lines record;
begin
  if v_cart.status = 'locked' and v_cart.lock_expires_at > now() then
    perform pos.raise('cart_locked', 'The cart is locked for checkout; release the lock before repairing it.',
      jsonb_build_object('expires_at', v_cart.lock_expires_at, 'checkout_ref', v_cart.lock_checkout_ref));
  end if;
  select coalesce(sum(i.quantity * i.unit_price_cents), 0) as subtotal_cents,
         coalesce(sum(i.quantity), 0) as item_count
    into v_lines
    from pos.cart_items i where i.cart_id = p_cart_id;
  if v_lines.subtotal_cents = v_cart.subtotal_cents and v_lines.item_count = v_cart.item_count then
    return pos.cart_snapshot(p_cart_id);
  end if;
  return pos.publish_cart_change(p_cart_id, 'repaired', jsonb_build_object(
    'by_ops', true, 'reason', p_reason,
    'before', jsonb_build_object('subtotal_cents', v_cart.subtotal_cents, 'item_count', v_cart.item_count),
    'after', jsonb_build_object('subtotal_cents', v_lines.subtotal_cents, 'item_count', v_lines.item_count)));
end;
$$;
grant execute on function public.repair_cart_totals(uuid, text) to authenticated, service_role;
