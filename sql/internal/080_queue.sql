create function pos.queue_entry_json(p_entry pos.queue_entries)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select jsonb_build_object(
      'id', p_entry.id,
      'location_id', p_entry.location_id,
      'customer_id', p_entry.customer_id,
      'cart_id', p_entry.cart_id,
      'ticket_number', p_entry.ticket_number,
      'status', p_entry.status,
      'position', case when p_entry.status = 'waiting' then (
        select count(*) from pos.queue_entries w
         where w.location_id = p_entry.location_id and w.status = 'waiting'
           and w.ticket_number <= p_entry.ticket_number) end,
      'joined_at', p_entry.joined_at,
      'called_at', p_entry.called_at));
end;
$$;
grant execute on function pos.queue_entry_json(pos.queue_entries) to authenticated, service_role;

create function pos.queue_snapshot(p_location_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select jsonb_build_object(
      'location_id', p_location_id,
      'entries', coalesce(jsonb_agg(
        jsonb_build_object(
          'id', e.id,
          'location_id', e.location_id,
          'customer_id', e.customer_id,
          'cart_id', e.cart_id,
          'ticket_number', e.ticket_number,
          'status', e.status,
          'position', e.position,
          'joined_at', e.joined_at,
          'called_at', e.called_at)
        order by e.ticket_number), '[]'::jsonb))
    from (
      select q.*,
             case when q.status = 'waiting' then
               count(*) filter (where q.status = 'waiting') over (order by q.ticket_number) end as position
        from pos.queue_entries q
       where q.location_id = p_location_id and q.status in ('waiting', 'serving')
    ) e);
end;
$$;
grant execute on function pos.queue_snapshot(uuid) to authenticated, service_role;

create function pos.publish_queue(p_location_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform realtime.send(pos.queue_snapshot(p_location_id), 'queue_updated', 'queue:' || p_location_id::text, true);
end;
$$;

-- Locks a queue entry for a status change, after checking the caller's store.
create function pos.lock_queue_entry(p_entry_id uuid)
returns pos.queue_entries
language plpgsql
set search_path = ''
as $$
declare
  v_entry pos.queue_entries;
begin
  select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update;
  perform pos.assert_store_access(v_entry.store_id, 'queue entry');
  return v_entry;
end;
$$;
