-- Runs as the caller: the row policies on pos.carts decide what is visible.
create function public.get_cart(p_cart_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_snapshot jsonb;
begin
  select pos.cart_snapshot(c.id) into v_snapshot from pos.carts c where c.id = p_cart_id;
  if v_snapshot is null then
    perform pos.raise('not_found', 'No such cart.');
  end if;
  return v_snapshot;
end;
$$;
grant execute on function public.get_cart(uuid) to authenticated, service_role;
