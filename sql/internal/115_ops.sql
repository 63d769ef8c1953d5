-- Who may fix a store's carts: service_role and the database's own roles (Studio,
-- pg_cron) for every store; a store's owners and managers for that store. Staff
-- are refused outright, before their input is even looked at.
create function pos.assert_ops_role()
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
create function pos.assert_store_operator(p_store_id uuid, p_what text)
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
create function pos.assert_reason(p_reason text)
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
create function pos.ops_cart_row(p_cart_id uuid, p_reason text)
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
create function pos.alerts_at(p_now timestamptz)
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
create function pos.check_alerts(p_now timestamptz)
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
