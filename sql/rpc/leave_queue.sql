-- SECURITY DEFINER: clients have no write grant; pos.lock_queue_entry checks the
-- caller is staff of the entry's store before anything is written.
create function public.leave_queue(p_entry_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_entry pos.queue_entries;
begin
  if p_entry_id is null then
    perform pos.raise('invalid_input', 'An entry is required.');
  end if;
  v_entry := pos.lock_queue_entry(p_entry_id);
  -- done and left are final: leaving again answers the entry as it is.
  if v_entry.status in ('waiting', 'serving') then
    update pos.queue_entries e set status = 'left', finished_at = now()
     where e.id = p_entry_id
    returning * into v_entry;
    perform pos.publish_queue(v_entry.location_id);
  end if;
  return pos.queue_entry_json(v_entry);
end;
$$;
grant execute on function public.leave_queue(uuid) to authenticated, service_role;
