-- Runs as the caller: the row policies decide what is visible.
create function public.list_open_carts(p_location_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if not exists (select 1 from pos.locations l where l.id = p_location_id) then
    perform pos.raise('not_found', 'No such location.');
  end if;
  return coalesce((
    select jsonb_agg(pos.cart_snapshot(c.id) order by c.created_at, c.id)
      from pos.carts c
     where c.location_id = p_location_id and c.status in ('active', 'locked')), '[]'::jsonb);
end;
$$;
grant execute on function public.list_open_carts(uuid) to authenticated, service_role;
