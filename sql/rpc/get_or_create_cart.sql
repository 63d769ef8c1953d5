-- SECURITY DEFINER: clients have no write grant on pos.carts; pos.open_cart
-- checks the caller is staff of the location's store before anything else.
create function public.get_or_create_cart(
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
