-- The contract's queue entry, in one place. `position` is 1-based among the
-- location's waiting entries, null for any other status.
create function pos.queue_entry_object(p_entry pos.queue_entries, p_position bigint)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'id', p_entry.id,
    'location_id', p_entry.location_id,
    'customer_id', p_entry.customer_id,
    'cart_id', p_entry.cart_id,
    'ticket_number', p_entry.ticket_number,
    'status', p_entry.status,
    'position', case when p_entry.status = 'waiting' then p_position end,
    'joined_at', p_entry.joined_at,
    'called_at', p_entry.called_at);
end;
$$;
grant execute on function pos.queue_entry_object(pos.queue_entries, bigint) to authenticated, service_role;

-- One entry, as an RPC answers it: its position counted through the waiting index.
create function pos.queue_entry_json(p_entry pos.queue_entries)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return pos.queue_entry_object(p_entry, (
    select count(*) from pos.queue_entries w
     where w.location_id = p_entry.location_id and w.status = 'waiting'
       and w.ticket_number <= p_entry.ticket_number));
end;
$$;
grant execute on function pos.queue_entry_json(pos.queue_entries) to authenticated, service_role;

-- A location's queue: waiting and serving entries by ticket, positions from one
-- window over them rather than a count per entry.
create function pos.queue_snapshot(p_location_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select jsonb_build_object(
      'location_id', p_location_id,
      'entries', coalesce(jsonb_agg(pos.queue_entry_object(e.entry, e.position) order by (e.entry).ticket_number),
                          '[]'::jsonb))
    from (
      select q as entry,
             count(*) filter (where q.status = 'waiting') over (order by q.ticket_number) as position
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
-- Held by another transaction: waited for at most 3 s, then `busy`. The store
-- is checked first, from a read without a lock (an entry never changes store):
-- another store's entry is never locked, and never answers `busy`, which would
-- tell that it exists.
create function pos.lock_queue_entry(p_entry_id uuid)
returns pos.queue_entries
language plpgsql
set search_path = ''
as $$
declare
  v_entry pos.queue_entries;
begin
  perform pos.assert_store_access((select e.store_id from pos.queue_entries e where e.id = p_entry_id),
    'queue entry');
  select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update skip locked;
  if not found then
    perform pos.bound_lock_wait();
    begin
      select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update;
    exception when lock_not_available then
      perform pos.raise_busy('Another request is still changing this queue entry.');
    end;
  end if;
  return v_entry;
end;
$$;

-- One queue change at a time per location: the location's row (it holds the
-- ticket counter) is the queue's lock. Held: waited for at most 3 s, then `busy`.
create function pos.lock_queue(p_location_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform 1 from pos.locations l where l.id = p_location_id for update skip locked;
  if found then
    return;
  end if;
  perform pos.bound_lock_wait();
  begin
    perform 1 from pos.locations l where l.id = p_location_id for update;
  exception when lock_not_available then
    perform pos.raise_busy('Another request is still changing this queue.');
  end;
end;
$$;

-- Locks the queue entries a cart change is about to mark or repoint: the live
-- entries of a customer at a location, and every entry of a cart. A queue
-- change in flight may hold one; it is waited for at most 3 s, then `busy`
-- (015_bounded_waits.sql), so the UPDATE that follows never waits. Without
-- contention this is two index reads and no subtransaction.
create function pos.lock_queue_entries_of(p_location_id uuid, p_customer_id uuid, p_cart_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_all bigint;
  v_taken bigint;
begin
  select count(*) into v_all from pos.queue_entries e
   where e.cart_id = p_cart_id
      or (e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving'));
  if v_all = 0 then
    return;
  end if;
  select count(*) into v_taken from (
    select 1 from pos.queue_entries e
     where e.cart_id = p_cart_id
        or (e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving'))
       for update skip locked) taken;
  if v_taken = v_all then
    return;
  end if;
  perform pos.bound_lock_wait();
  begin
    perform 1 from pos.queue_entries e
     where e.cart_id = p_cart_id
        or (e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving'))
       for update;
  exception when lock_not_available then
    perform pos.raise_busy('Another request is still changing this customer''s queue entry.');
  end;
end;
$$;
