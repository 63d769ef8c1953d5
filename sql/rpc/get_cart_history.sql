-- Runs as the caller: the row policies decide what is visible.
create function public.get_cart_history(p_cart_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if not exists (select 1 from pos.carts c where c.id = p_cart_id) then
    perform pos.raise('not_found', 'No such cart.');
  end if;
  return (
    select coalesce(jsonb_agg(jsonb_build_object(
             'version', e.version, 'kind', e.kind, 'actor_id', e.actor_id, 'at', e.at, 'data', e.data)
           order by e.version), '[]'::jsonb)
      from pos.cart_events e
     where e.cart_id = p_cart_id);
end;
$$;
grant execute on function public.get_cart_history(uuid) to authenticated, service_role;
