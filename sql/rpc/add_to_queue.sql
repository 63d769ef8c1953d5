-- SECURITY DEFINER: clients have no write grant; pos.open_cart checks the caller
-- is staff of the location's store before anything is written.
create function public.add_to_queue(
  p_location_id uuid,
  p_customer_id uuid,
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
  v_cart_id uuid;
  v_entry pos.queue_entries;
  v_ticket integer;
begin
  if p_location_id is null or p_customer_id is null then
    perform pos.raise('invalid_input', 'A location and a customer are required.');
  end if;
  select l.store_id into v_store_id from pos.locations l where l.id = p_location_id;
  perform pos.assert_store_access(v_store_id, 'location');
  v_keyed := pos.keyed_open('add_to_queue', v_store_id, p_idempotency_key,
    jsonb_build_array(p_location_id, p_customer_id));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  -- One queue change at a time per location: the ticket counter row is the lock.
  -- Then "already waiting?" and "new ticket" cannot interleave (invariant 6).
  perform pos.lock_queue(p_location_id);
  v_cart_id := pos.open_cart(p_location_id, p_customer_id, null);

  select * into v_entry from pos.queue_entries e
   where e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving');
  if found then
    if v_entry.cart_id <> v_cart_id then
      -- Its cart closed; the entry follows the customer's open cart.
      perform pos.lock_queue_entry(v_entry.id);
      update pos.queue_entries e set cart_id = v_cart_id where e.id = v_entry.id returning * into v_entry;
      perform pos.publish_queue(p_location_id);
    end if;
  else
    update pos.locations l set last_ticket_number = l.last_ticket_number + 1
     where l.id = p_location_id
    returning l.last_ticket_number into v_ticket;
    insert into pos.queue_entries (store_id, location_id, customer_id, cart_id, ticket_number)
    values (v_store_id, p_location_id, p_customer_id, v_cart_id, v_ticket)
    returning * into v_entry;
    perform pos.publish_queue(p_location_id);
  end if;

  v_response := jsonb_build_object('entry', pos.queue_entry_json(v_entry), 'cart', pos.cart_snapshot(v_cart_id));
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.add_to_queue(uuid, uuid, text) to authenticated, service_role;
