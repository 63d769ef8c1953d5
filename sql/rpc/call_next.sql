-- SECURITY DEFINER: clients have no write grant; pos.assert_store_access checks
-- the caller is staff of the location's store before anything is written.
create function public.call_next(
  p_location_id uuid,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_keyed pos.keyed_mutation;
  v_store_id uuid;
  v_response jsonb;
  v_entry pos.queue_entries;
begin
  if p_location_id is null then
    perform pos.raise('invalid_input', 'A location is required.');
  end if;
  select l.store_id into v_store_id from pos.locations l where l.id = p_location_id;
  perform pos.assert_store_access(v_store_id, 'location');
  v_keyed := pos.keyed_open('call_next', v_store_id, p_idempotency_key,
    jsonb_build_array(p_location_id));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  -- Two devices calling "next" at once: each skips the entry the other holds.
  select * into v_entry from pos.queue_entries e
   where e.location_id = p_location_id and e.status = 'waiting'
   order by e.ticket_number
   limit 1
   for update skip locked;
  if found then
    update pos.queue_entries e set status = 'serving', called_at = now()
     where e.id = v_entry.id
    returning * into v_entry;
    perform pos.publish_queue(p_location_id);
    v_response := pos.queue_entry_json(v_entry);
  end if;
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.call_next(uuid, text) to authenticated, service_role;
