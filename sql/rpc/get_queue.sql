-- Runs as the caller: the row policies decide what is visible.
create function public.get_queue(p_location_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if not exists (select 1 from pos.locations l where l.id = p_location_id) then
    perform pos.raise('not_found', 'No such location.');
  end if;
  return pos.queue_snapshot(p_location_id);
end;
$$;
grant execute on function public.get_queue(uuid) to authenticated, service_role;
