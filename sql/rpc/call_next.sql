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
  v_request jsonb := jsonb_build_object('rpc', 'call_next', 'location_id', p_location_id);
  v_store_id uuid;
  v_response jsonb;
  v_entry pos.queue_entries;
begin
  if p_location_id is null then
    perform pos.raise('invalid_input', 'A location is required.');
  end if;
  select l.store_id into v_store_id from pos.locations l where l.id = p_location_id;
  perform pos.assert_store_access(v_store_id, 'location');
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
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
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, coalesce(v_response, 'null'::jsonb));
  return v_response;
end;
$$;
grant execute on function public.call_next(uuid, text) to authenticated, service_role;
