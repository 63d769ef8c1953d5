-- bound queue entry and ops waits: from sql/internal/070_open_cart.sql, sql/internal/080_queue.sql, sql/internal/090_fold_cart.sql, sql/internal/115_ops.sql, sql/rpc/complete_checkout.sql, sql/rpc/abandon_cart.sql, sql/rpc/add_to_queue.sql
-- Why: Queue entries an ops fix, a merge or a rejoin changes, the carts a merge locks and the alert
-- check's lock were still waited for without a bound (a 500 through PostgREST); all wait at most 3 s
-- now, then answer busy. A checkout no longer opens a subtransaction when nothing is held.
-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- Finds the open cart for a customer (or, with no customer, a device) at a
-- location, creating it when none is open. Concurrent callers race on the insert;
-- the partial unique indexes let exactly one win and the rest read its row. The
-- loop only repeats when the winner's cart closed in between.
create or replace function pos.open_cart(p_location_id uuid, p_customer_id uuid, p_device_id text)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_store_id uuid;
  v_cart_id uuid;
begin
  select l.store_id into v_store_id from pos.locations l where l.id = p_location_id;
  perform pos.assert_store_access(v_store_id, 'location');
  if p_customer_id is not null and not exists (
      select 1 from pos.customers c where c.id = p_customer_id and c.store_id = v_store_id) then
    perform pos.raise('not_found', 'No such customer.');
  end if;

  for attempt in 1..5 loop
    -- One query per kind of cart, each the exact shape of its partial unique
    -- index: a CASE here would leave the planner scanning every open cart at
    -- the location.
    if p_customer_id is not null then
      select c.id into v_cart_id from pos.carts c
       where c.customer_id = p_customer_id and c.location_id = p_location_id
         and c.status in ('active', 'locked')
       order by c.created_at, c.id
       limit 1;
    else
      select c.id into v_cart_id from pos.carts c
       where c.device_id = p_device_id and c.location_id = p_location_id and c.customer_id is null
         and c.status in ('active', 'locked')
       order by c.created_at, c.id
       limit 1;
    end if;
    if found then
      return v_cart_id;
    end if;

    -- An insert that meets another transaction's uncommitted cart for the same
    -- customer waits for that transaction: at most 3 s, then `busy`, like every
    -- lock wait (015_bounded_waits.sql). Creating a cart is rare enough that the
    -- block's subtransaction costs nothing worth avoiding.
    perform pos.bound_lock_wait();
    begin
      insert into pos.carts (store_id, location_id, customer_id, device_id)
      values (v_store_id, p_location_id, p_customer_id, p_device_id)
      on conflict do nothing
      returning id into v_cart_id;
    exception when lock_not_available then
      perform pos.raise_busy('Another request is still opening this cart.');
    end;
    if v_cart_id is not null then
      perform pos.record_cart_created(v_cart_id,
        jsonb_build_object('customer_id', p_customer_id, 'device_id', p_device_id));
      return v_cart_id;
    end if;
  end loop;
  -- Every attempt found the winner's cart closed again before it could be read.
  perform pos.raise_busy('The customer''s cart kept changing while it was being opened.');
end;
$$;

-- The contract's queue entry, in one place. `position` is 1-based among the
-- location's waiting entries, null for any other status.
create or replace function pos.queue_entry_object(p_entry pos.queue_entries, p_position bigint)
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
create or replace function pos.queue_entry_json(p_entry pos.queue_entries)
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
create or replace function pos.queue_snapshot(p_location_id uuid)
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

create or replace function pos.publish_queue(p_location_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform realtime.send(pos.queue_snapshot(p_location_id), 'queue_updated', 'queue:' || p_location_id::text, true);
end;
$$;

-- Locks a queue entry for a status change, after checking the caller's store.
-- Held by another transaction: waited for at most 3 s, then `busy`.
create or replace function pos.lock_queue_entry(p_entry_id uuid)
returns pos.queue_entries
language plpgsql
set search_path = ''
as $$
declare
  v_entry pos.queue_entries;
begin
  select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update skip locked;
  if not found then
    perform pos.bound_lock_wait();
    begin
      select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update;
    exception when lock_not_available then
      perform pos.raise_busy('Another request is still changing this queue entry.');
    end;
  end if;
  perform pos.assert_store_access(v_entry.store_id, 'queue entry');
  return v_entry;
end;
$$;

-- One queue change at a time per location: the location's row (it holds the
-- ticket counter) is the queue's lock. Held: waited for at most 3 s, then `busy`.
create or replace function pos.lock_queue(p_location_id uuid)
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
create or replace function pos.lock_queue_entries_of(p_location_id uuid, p_customer_id uuid, p_cart_id uuid)
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

-- Moves every line of one open cart into another (quantities added where the
-- product and options match; the surviving line keeps its price), closes the
-- first as `merged`, and repoints its queue entries. Both carts get a version
-- and a `merged` event (with p_data added: an ops merge records its reason). The
-- caller holds both row locks.
create or replace function pos.fold_cart(p_from uuid, p_into uuid, p_data jsonb default '{}')
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_items jsonb;
  v_location_id uuid;
begin
  select coalesce(jsonb_agg(jsonb_build_object(
           'product_id', i.product_id, 'quantity', i.quantity,
           'unit_price_cents', i.unit_price_cents, 'options', i.options) order by i.line_no), '[]')
    into v_items
    from pos.cart_items i where i.cart_id = p_from;

  insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents, options, added_at)
  select p_into, i.product_id, i.name, i.quantity, i.unit_price_cents, i.options, i.added_at
    from pos.cart_items i where i.cart_id = p_from
   order by i.line_no
  on conflict (cart_id, product_id, options_key)
  do update set quantity = pos.cart_items.quantity + excluded.quantity;
  delete from pos.cart_items i where i.cart_id = p_from;

  update pos.carts c set status = 'merged', merged_into = p_into
   where c.id = p_from
  returning c.location_id into v_location_id;
  perform pos.publish_cart_change(p_from, 'merged',
    jsonb_build_object('merged_into', p_into, 'items', v_items) || coalesce(p_data, '{}'));
  perform pos.publish_cart_change(p_into, 'merged',
    jsonb_build_object('merged_from', p_from, 'items', v_items) || coalesce(p_data, '{}'));

  perform pos.lock_queue_entries_of(null, null, p_from);
  update pos.queue_entries e set cart_id = p_into where e.cart_id = p_from;
  if found then
    perform pos.publish_queue(v_location_id);
  end if;
end;
$$;

-- Folds every duplicate open cart (same customer, or same device for carts with
-- no customer, at one location) into the oldest open cart of its group: all
-- stores when p_store_id is null, else that store's. Returns how many folded.
create or replace function pos.merge_duplicates(p_store_id uuid, p_data jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_pair record;
  v_count integer := 0;
begin
  for v_pair in
    select d.id as from_id, d.survivor_id as into_id
      from (
        select c.id,
               first_value(c.id) over w as survivor_id,
               row_number() over w as n
          from pos.carts c
         where c.status in ('active', 'locked') and (p_store_id is null or c.store_id = p_store_id)
        window w as (
          partition by c.location_id, coalesce(c.customer_id::text, 'device:' || c.device_id)
          order by c.created_at, c.id)
      ) d
     where d.n > 1
     order by d.survivor_id, d.id
  loop
    -- Row locks in id order, the same order for every group; each waited for at most 3 s.
    perform pos.cart_row_for_update(least(v_pair.from_id, v_pair.into_id));
    perform pos.cart_row_for_update(greatest(v_pair.from_id, v_pair.into_id));
    -- A cart closed since the scan began is no longer a duplicate.
    continue when (select count(*) from pos.carts c
                    where c.id in (v_pair.from_id, v_pair.into_id) and c.status in ('active', 'locked')) < 2;
    perform pos.fold_cart(v_pair.from_id, v_pair.into_id, p_data);
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;

-- Who may fix a store's carts: service_role and the database's own roles (Studio,
-- pg_cron) for every store; a store's owners and managers for that store. Staff
-- are refused outright, before their input is even looked at.
create or replace function pos.assert_ops_role()
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if pos.request_role() in ('anon', 'authenticated') and not exists (
      select 1 from pos.staff s where s.user_id = auth.uid() and s.role in ('owner', 'manager')) then
    perform pos.raise('forbidden', 'Only a store''s owners and managers may do this.');
  end if;
end;
$$;

-- After pos.assert_ops_role: the caller manages p_store_id. Another store's object
-- answers like a missing one (not_found); a store where the caller is only staff
-- answers forbidden.
create or replace function pos.assert_store_operator(p_store_id uuid, p_what text)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  v_role text;
begin
  if p_store_id is not null and pos.request_role() not in ('anon', 'authenticated') then
    return;
  end if;
  select s.role into v_role from pos.staff s where s.user_id = auth.uid() and s.store_id = p_store_id;
  if v_role in ('owner', 'manager') then
    return;
  end if;
  if v_role = 'staff' then
    perform pos.raise('forbidden', 'Only a store''s owners and managers may do this.');
  end if;
  perform pos.raise('not_found', format('No such %s.', p_what));
end;
$$;

-- The reason every ops fix records: what a person would want to read in a dispute.
create or replace function pos.assert_reason(p_reason text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_reason is null or length(p_reason) > 500 or btrim(p_reason) = '' then
    perform pos.raise('invalid_input', 'A reason is 1 to 500 characters, not only spaces.');
  end if;
end;
$$;

-- The prologue of an ops fix of one cart: role, input, the cart's store, then the
-- cart's row lock (pos.cart_row_for_update, as every mutation takes it).
create or replace function pos.ops_cart_row(p_cart_id uuid, p_reason text)
returns pos.carts
language plpgsql
set search_path = ''
as $$
begin
  perform pos.assert_ops_role();
  if p_cart_id is null then
    perform pos.raise('invalid_input', 'A cart is required.');
  end if;
  perform pos.assert_reason(p_reason);
  perform pos.assert_store_operator((select c.store_id from pos.carts c where c.id = p_cart_id), 'cart');
  return pos.cart_row_for_update(p_cart_id);
end;
$$;

-- Every condition that needs a person, as of p_now (the check passes now(); the
-- tests pass a scripted clock). `since` is when the underlying problem began.
-- Thresholds: a lock expired over 2 minutes ago and still recorded as held; a
-- customer waiting over 30 minutes; a rise in refusals = at least 10 in the last
-- 10 minutes and at least 3 times the store's 10-minute average over the hour
-- before. Totals are checked on open carts and carts with history in the last day.
create or replace function pos.alerts_at(p_now timestamptz)
returns table (
  kind text, subject text, store_id uuid, severity text, since timestamptz,
  location_id uuid, customer_id uuid, cart_id uuid, detail jsonb)
language sql
stable
set search_path = ''
as $$
  select 'duplicate_open_carts', 'duplicate:' || d.location_id || '/' || d.owner_key, d.store_id, 'critical',
         d.created[2], d.location_id, d.customer_id, d.cart_ids[1],
         jsonb_build_object('open_carts', cardinality(d.cart_ids), 'cart_ids', to_jsonb(d.cart_ids),
                            'device_id', d.device_id)
    from (
      select c.store_id, c.location_id, min(c.customer_id::text)::uuid as customer_id,
             coalesce(c.customer_id::text, 'device:' || c.device_id) as owner_key,
             min(case when c.customer_id is null then c.device_id end) as device_id,
             array_agg(c.id order by c.created_at, c.id) as cart_ids,
             array_agg(c.created_at order by c.created_at, c.id) as created
        from pos.carts c
       where c.status in ('active', 'locked')
       group by c.store_id, c.location_id, coalesce(c.customer_id::text, 'device:' || c.device_id)
      having count(*) > 1
    ) d
  union all
  select 'stuck_lock', 'cart:' || c.id, c.store_id, 'warning', c.lock_expires_at,
         c.location_id, c.customer_id, c.id,
         jsonb_build_object('checkout_ref', c.lock_checkout_ref, 'locked_version', c.locked_version,
                            'expired_at', c.lock_expires_at)
    from pos.carts c
   where c.status = 'locked' and c.lock_expires_at < p_now - interval '2 minutes'
  union all
  select 'totals_mismatch', 'cart:' || c.id, c.store_id, 'critical', c.updated_at,
         c.location_id, c.customer_id, c.id,
         jsonb_build_object('subtotal_cents', c.subtotal_cents, 'lines_subtotal_cents', l.subtotal_cents,
                            'item_count', c.item_count, 'lines_item_count', l.item_count)
    from pos.carts c
   cross join lateral (
     select coalesce(sum(i.quantity * i.unit_price_cents), 0) as subtotal_cents,
            coalesce(sum(i.quantity), 0) as item_count
       from pos.cart_items i where i.cart_id = c.id) l
   where c.id in (
           -- Open carts through their partial index, recent ones through the
           -- history's BRIN index: never a scan of every cart ever sold.
           select o.id from pos.carts o where o.status in ('active', 'locked')
           union
           select e.cart_id from pos.cart_events e where e.at > p_now - interval '1 day')
     and (c.subtotal_cents <> l.subtotal_cents or c.item_count <> l.item_count)
  union all
  select 'long_wait', 'entry:' || e.id, e.store_id, 'warning', e.joined_at,
         e.location_id, e.customer_id, e.cart_id,
         jsonb_build_object('ticket_number', e.ticket_number,
                            'waited_minutes', floor(extract(epoch from p_now - e.joined_at) / 60))
    from pos.queue_entries e
   where e.status = 'waiting' and e.joined_at < p_now - interval '30 minutes'
  union all
  select r.kind, r.kind || ':' || r.store_id, r.store_id, 'warning', r.first_at,
         null, null, null,
         jsonb_build_object('last_10_minutes', r.recent, 'previous_hour', r.before)
    from (
      select case when f.code = 'busy' then 'busy_rise' else 'conflict_rise' end as kind, f.store_id,
             count(*) filter (where f.at > p_now - interval '10 minutes') as recent,
             count(*) filter (where f.at <= p_now - interval '10 minutes') as before,
             min(f.at) filter (where f.at > p_now - interval '10 minutes') as first_at
        from pos.refusals f
       where f.at > p_now - interval '70 minutes' and f.at <= p_now
       group by 1, 2
    ) r
   -- The hour before holds six 10-minute windows: 3 times their average is half its count.
   where r.recent >= 10 and 2 * r.recent >= r.before
$$;

-- Records which alerts opened and which closed since the last check, as of p_now.
-- Checks run one at a time (two overlapping pg_cron runs would both open the
-- same alert otherwise).
create or replace function pos.check_alerts(p_now timestamptz)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_opened integer;
  v_closed integer;
begin
  perform pos.advisory_xact_lock_or_busy(hashtextextended('onecart/check_alerts', 7),
    'Another alert check is still running.');
  with now_open as materialized (
    select * from pos.alerts_at(p_now)
  ), closed as (
    update pos.alert_history h set closed_at = p_now
     where h.closed_at is null
       and not exists (select 1 from now_open a where a.kind = h.kind and a.subject = h.subject)
    returning 1
  ), opened as (
    insert into pos.alert_history (kind, subject, store_id, severity, since, detail, opened_at)
    select a.kind, a.subject, a.store_id, a.severity, a.since, a.detail, p_now
      from now_open a
     where not exists (select 1 from pos.alert_history h
                        where h.closed_at is null and h.kind = a.kind and h.subject = a.subject)
    returning 1
  )
  select (select count(*) from opened), (select count(*) from closed) into v_opened, v_closed;
  return jsonb_build_object('opened', v_opened, 'closed', v_closed,
    'open', (select count(*) from pos.alert_history h where h.closed_at is null));
end;
$$;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.complete_checkout(
  p_cart_id uuid,
  p_lock_token uuid,
  p_checkout_ref text,
  p_paid_total_cents bigint,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request jsonb := jsonb_build_object('rpc', 'complete_checkout', 'cart_id', p_cart_id, 'lock_token', p_lock_token,
    'checkout_ref', p_checkout_ref, 'paid_total_cents', p_paid_total_cents, 'expected_version', p_expected_version);
  v_store_id uuid;
  v_response jsonb;
  v_cart pos.carts;
begin
  if p_cart_id is null or p_lock_token is null then
    perform pos.raise('invalid_input', 'A cart and a lock token are required.');
  end if;
  if p_checkout_ref is null then
    perform pos.raise('invalid_input', 'A checkout ref is required.');
  end if;
  perform pos.assert_name_text(p_checkout_ref, 'A checkout ref', 200);
  if p_paid_total_cents is null or p_paid_total_cents < 0 then
    perform pos.raise('invalid_input', 'The paid total is a non-negative number of cents.');
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  -- No lazy release of an expired lock here: its token may still complete.
  v_cart := pos.cart_row_for_update(p_cart_id);
  if v_cart.status = 'checked_out' and v_cart.lock_token = p_lock_token and v_cart.checkout_ref = p_checkout_ref then
    -- The payment terminal retrying a checkout that already went through.
    return pos.cart_snapshot(p_cart_id);
  end if;
  perform pos.assert_cart_open(v_cart);
  if v_cart.lock_token is distinct from p_lock_token then
    perform pos.raise('lock_mismatch', 'This lock token is not the cart''s latest lock.');
  end if;
  perform pos.assert_expected_version(p_expected_version, v_cart.version);
  if exists (
      select 1 from pos.cart_events e
       where e.cart_id = p_cart_id and e.version > v_cart.locked_version
         and e.kind in ('item_added', 'item_quantity_set', 'item_removed', 'merged')) then
    perform pos.raise('cart_changed', 'The lock expired and the cart changed before checkout.',
      jsonb_build_object('locked_version', v_cart.locked_version, 'current_version', v_cart.version));
  end if;
  if p_paid_total_cents <> v_cart.lock_total_cents then
    perform pos.raise('total_mismatch',
      format('Paid %s cents, the locked total is %s cents.', p_paid_total_cents, v_cart.lock_total_cents),
      jsonb_build_object('total_cents', v_cart.lock_total_cents));
  end if;

  update pos.carts c
     set status = 'checked_out', checkout_ref = p_checkout_ref, paid_total_cents = p_paid_total_cents,
         checked_out_at = now()
   where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'checked_out', jsonb_build_object(
    'checkout_ref', p_checkout_ref, 'paid_total_cents', p_paid_total_cents, 'locked_version', v_cart.locked_version));

  perform pos.lock_queue_entries_of(v_cart.location_id, v_cart.customer_id, null);
  update pos.queue_entries e
     set status = 'done', finished_at = now()
   where e.location_id = v_cart.location_id and e.customer_id = v_cart.customer_id
     and e.status in ('waiting', 'serving');
  if found then
    perform pos.publish_queue(v_cart.location_id);
  end if;

  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.complete_checkout(uuid, uuid, text, bigint, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.ops_cart_row checks the
-- caller is service_role or an owner or manager of the cart's store first.
-- Abandoning overrides a lock (its token dies: a checkout with it now answers
-- cart_closed), and the customer's live queue entry at the location is marked
-- `left`, since a queue entry always points at an open cart. An abandoned cart
-- comes back unchanged, so a retried abandon is harmless.
create or replace function public.abandon_cart(p_cart_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart pos.carts := pos.ops_cart_row(p_cart_id, p_reason);
  v_response jsonb;
begin
  if v_cart.status = 'abandoned' then
    return pos.cart_snapshot(p_cart_id);
  end if;
  perform pos.assert_cart_open(v_cart);
  update pos.carts c
     set status = 'abandoned', lock_token = null, lock_checkout_ref = null, lock_expires_at = null,
         locked_version = null, lock_total_cents = null
   where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'abandoned', jsonb_build_object(
    'by_ops', true, 'reason', p_reason, 'previous_status', v_cart.status,
    'lock', case when v_cart.status = 'locked' then jsonb_build_object(
      'checkout_ref', v_cart.lock_checkout_ref, 'locked_version', v_cart.locked_version,
      'expires_at', v_cart.lock_expires_at, 'total_cents', v_cart.lock_total_cents) end));

  perform pos.lock_queue_entries_of(null, null, p_cart_id);
  update pos.queue_entries e
     set status = 'left', finished_at = now()
   where e.cart_id = p_cart_id and e.status in ('waiting', 'serving');
  if found then
    perform pos.publish_queue(v_cart.location_id);
  end if;
  return v_response;
end;
$$;
grant execute on function public.abandon_cart(uuid, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.open_cart checks the caller
-- is staff of the location's store before anything is written.
create or replace function public.add_to_queue(
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
  v_request jsonb := jsonb_build_object('rpc', 'add_to_queue', 'location_id', p_location_id, 'customer_id', p_customer_id);
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
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
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
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.add_to_queue(uuid, uuid, text) to authenticated, service_role;

alter default privileges grant execute on functions to public;
