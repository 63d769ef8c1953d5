-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- add ops fixes health alerts: from sql/schema/060_ops.sql, sql/internal/030_idempotency.sql, sql/internal/090_fold_cart.sql, sql/internal/115_ops.sql, sql/internal/120_store_health.sql, sql/rpc/merge_duplicate_carts.sql, sql/rpc/release_cart_lock.sql, sql/rpc/abandon_cart.sql, sql/rpc/repair_cart_totals.sql, sql/rpc/merge_store_duplicate_carts.sql, sql/rpc/get_store_health.sql, sql/rpc/list_store_alerts.sql, sql/rpc/record_refusal.sql, sql/rpc/check_alerts.sql, sql/ops/views.sql, sql/ops/views_health.sql, sql/ops/views_alerts.sql, sql/schedule/pg_cron.sql
-- Why: Owners and managers fix a store's carts without SQL (release a lock, abandon, repair totals,
-- merge duplicates), and the database measures how the carts are doing and says when something needs a
-- person (issue 14).
-- By hand: a new history kind for repair_cart_totals, and pos.fold_cart gains a
-- parameter (a changed signature is a new function, so the old one goes first).
alter table pos.cart_events drop constraint cart_events_kind_check;
alter table pos.cart_events add constraint cart_events_kind_check check (kind in (
    'created', 'item_added', 'item_quantity_set', 'item_removed', 'locked', 'lock_updated',
    'unlocked', 'lock_expired', 'checked_out', 'merged', 'abandoned', 'repaired'));
drop function pos.fold_cart(uuid, uuid);
-- The ops views gain names and an order (worst first): columns move, so they are made anew.
drop view ops.duplicate_open_carts, ops.cart_locks, ops.cart_total_mismatches, ops.cart_history_gaps,
  ops.queue_entries_off_cart, ops.queue_now;
-- What operations adds to the tables: a record of refusals that roll back, a
-- count of idempotent replays, and the history of alerts.

-- `version_conflict`, `cart_locked` and `busy` roll their transaction back, so
-- nothing of them survives in the cart's history. The functions report each one
-- afterwards, apart from the request (public.record_refusal). Append-only: a storm
-- of refusals is exactly when a shared counter row would become a hot spot.
create table pos.refusals (
  id bigint generated always as identity primary key,
  store_id uuid not null references pos.stores (id),
  code text not null check (code in ('version_conflict', 'cart_locked', 'busy')),
  rpc text not null check (length(rpc) between 1 and 100),
  at timestamptz not null default now()
);
create index refusals_store_at_idx on pos.refusals (store_id, at);

-- ops.store_health reads the history by time. BRIN: the history is appended in
-- time order, so the index costs next to nothing on each cart mutation.
create index cart_events_at_brin_idx on pos.cart_events using brin (at);

-- A replay returns the stored response; counting it on the key's row keeps the
-- figure where the key lives (and purged with it after a week).
alter table pos.idempotency_keys add column replays integer not null default 0;
alter table pos.idempotency_keys add column last_replayed_at timestamptz;

-- Every alert that opened, and when it closed; public.check_alerts() writes it
-- every minute. An alert is identified by its kind and subject (a cart, a queue
-- entry, a group of duplicate carts, a store), and at most one of each is open.
create table pos.alert_history (
  id bigint generated always as identity primary key,
  kind text not null check (kind in (
    'duplicate_open_carts', 'stuck_lock', 'totals_mismatch', 'long_wait', 'conflict_rise', 'busy_rise')),
  subject text not null,
  store_id uuid not null references pos.stores (id),
  severity text not null check (severity in ('critical', 'warning')),
  since timestamptz not null,
  detail jsonb not null default '{}',
  opened_at timestamptz not null,
  closed_at timestamptz,
  check (closed_at is null or closed_at >= opened_at)
);
create unique index alert_history_one_open_idx on pos.alert_history (kind, subject) where closed_at is null;
create index alert_history_store_idx on pos.alert_history (store_id, opened_at);

alter table pos.refusals enable row level security;
alter table pos.alert_history enable row level security;
revoke all on pos.refusals, pos.alert_history from public, anon, authenticated, service_role;
-- No client reads these tables: owners read their store's figures and alerts
-- through public.get_store_health and public.list_store_alerts.
create policy no_client_access on pos.refusals for select to authenticated using (false);
create policy no_client_access on pos.alert_history for select to authenticated using (false);

-- Invariant 7. The advisory lock makes two concurrent requests with one key
-- queue behind each other: the second sees the first's stored response. It is
-- always taken before the cart row lock, so the two cannot deadlock.
create or replace function pos.idempotency_replay(p_store_id uuid, p_key text, p_request jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_stored pos.idempotency_keys;
begin
  if p_key is null then
    return null;
  end if;
  if length(p_key) not between 1 and 255 then
    perform pos.raise('invalid_input', 'An idempotency key is 1 to 255 characters.');
  end if;
  perform pg_advisory_xact_lock(hashtextextended(p_store_id::text || '/' || p_key, 7));
  select * into v_stored from pos.idempotency_keys k where k.store_id = p_store_id and k.key = p_key;
  if not found then
    return null;
  end if;
  if v_stored.request <> p_request then
    perform pos.raise('idempotency_key_reused',
      'This idempotency key was already used for a different request.',
      jsonb_build_object('first_request', v_stored.request -> 'rpc'));
  end if;
  -- ops.store_health counts replays; the advisory lock above already serializes
  -- every request with this key, so this row is never contended.
  update pos.idempotency_keys k set replays = k.replays + 1, last_replayed_at = now()
   where k.store_id = p_store_id and k.key = p_key;
  return v_stored.response;
end;
$$;

create or replace function pos.idempotency_save(p_store_id uuid, p_key text, p_request jsonb, p_response jsonb)
returns void
language plpgsql
set search_path = ''
as $$
begin
  if p_key is not null then
    insert into pos.idempotency_keys (store_id, key, request, response)
    values (p_store_id, p_key, p_request, p_response);
  end if;
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
    -- Row locks in id order, the same order for every group.
    perform 1 from pos.carts c where c.id in (v_pair.from_id, v_pair.into_id) order by c.id for update;
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
  perform pg_advisory_xact_lock(hashtextextended('onecart/check_alerts', 7));
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

-- Per store and hour, how the carts are doing, from what the database records:
-- the history (every committed change is one event), the refusals the functions
-- report (public.record_refusal), and the idempotency keys. Hours with nothing
-- recorded have no row. Newest hour first.
--   mutations           every committed cart change (one history event each)
--   carts_created       new carts
--   checkouts, checkout_value_cents   completed checkouts and what was paid
--   locks_taken         locks taken in the hour; lock_seconds_avg/_max over those
--                       that have ended (checkout, unlock, expiry, abandon, merge;
--                       a lock that ran out ends at its expires_at, even when it
--                       was recorded, released or abandoned later)
--   locks_expired       expiries recorded (lock_expired events)
--   version_conflicts, locked_refusals, busy_answers   refusals answered through
--                       the functions: version_conflict, cart_locked, busy
--   idempotent_replays  retries answered from a stored response, counted in the
--                       hour the request was first made (keys are kept a week)
--   merges              duplicate carts folded into another
--   ops_fixes           changes made by the ops RPCs (release, abandon, repair, merge)
-- Every lock taken from p_from on (one store, or all: null), and how it ended:
-- the next checkout, unlock, expiry, abandon or merge of its cart. A lock that
-- ran out ends at its expires_at, however late its release was recorded
-- (lock_expired, an ops release or an abandon); ended_at is null while it holds.
create or replace function pos.lock_spans(p_store_id uuid, p_from timestamptz)
returns table (
  cart_id uuid, store_id uuid, locked_at timestamptz, locked_version bigint, checkout_ref text,
  ended_at timestamptz, ended_by text, seconds numeric)
language sql
stable
set search_path = ''
as $$
  select l.cart_id, c.store_id, l.at, l.version, l.data ->> 'checkout_ref', ended.end_at, ended.kind,
         round(extract(epoch from ended.end_at - l.at), 1)
    from pos.cart_events l
    join pos.carts c on c.id = l.cart_id
    left join lateral (
      select x.kind,
             coalesce((x.data ->> 'expired_at')::timestamptz,
               least(x.at, coalesce(x.data ->> 'expires_at', x.data -> 'lock' ->> 'expires_at')::timestamptz)) as end_at
        from pos.cart_events x
       where x.cart_id = l.cart_id and x.version > l.version
         and x.kind in ('unlocked', 'lock_expired', 'checked_out', 'abandoned', 'merged')
       order by x.version
       limit 1) ended on true
   where l.kind = 'locked' and l.at >= p_from and (p_store_id is null or c.store_id = p_store_id)
$$;

-- The rows of ops.store_health, for one store (or all: null) from p_from on;
-- get_store_health filters one store's recent hours by time (a BRIN index on
-- the history's timestamps) rather than reading the whole history.
create or replace function pos.store_health(p_store_id uuid, p_from timestamptz)
returns table (
  hour timestamptz, store_name text, mutations bigint, carts_created bigint, checkouts bigint,
  checkout_value_cents bigint, locks_taken bigint, lock_seconds_avg numeric, lock_seconds_max numeric,
  locks_expired bigint, version_conflicts bigint, locked_refusals bigint, busy_answers bigint,
  idempotent_replays bigint, merges bigint, ops_fixes bigint, store_id uuid)
language sql
stable
set search_path = ''
as $$
with events as (
  select c.store_id, date_trunc('hour', e.at) as hour,
         count(*) as mutations,
         count(*) filter (where e.kind = 'created') as carts_created,
         count(*) filter (where e.kind = 'checked_out') as checkouts,
         coalesce(sum((e.data ->> 'paid_total_cents')::bigint) filter (where e.kind = 'checked_out'), 0)
           as checkout_value_cents,
         count(*) filter (where e.kind = 'locked') as locks_taken,
         count(*) filter (where e.kind = 'lock_expired') as locks_expired,
         count(*) filter (where e.kind = 'merged' and e.data ? 'merged_from') as merges,
         count(*) filter (where e.data ? 'reason' and (e.kind <> 'merged' or e.data ? 'merged_from')) as ops_fixes
    from pos.cart_events e
    join pos.carts c on c.id = e.cart_id
   where e.at >= p_from and (p_store_id is null or c.store_id = p_store_id)
   group by 1, 2
), lock_spans as (
  select s.store_id, date_trunc('hour', s.locked_at) as hour, s.seconds
    from pos.lock_spans(p_store_id, p_from) s
   where s.ended_at is not null
), locks as (
  select s.store_id, s.hour, round(avg(s.seconds), 1) as lock_seconds_avg, round(max(s.seconds), 1) as lock_seconds_max
    from lock_spans s group by 1, 2
), refusals as (
  select f.store_id, date_trunc('hour', f.at) as hour,
         count(*) filter (where f.code = 'version_conflict') as version_conflicts,
         count(*) filter (where f.code = 'cart_locked') as locked_refusals,
         count(*) filter (where f.code = 'busy') as busy_answers
    from pos.refusals f
   where f.at >= p_from and (p_store_id is null or f.store_id = p_store_id)
   group by 1, 2
), replays as (
  select k.store_id, date_trunc('hour', k.created_at) as hour, sum(k.replays) as idempotent_replays
    from pos.idempotency_keys k
   where k.replays > 0 and k.created_at >= p_from and (p_store_id is null or k.store_id = p_store_id)
   group by 1, 2
), hours as (
  select store_id, hour from events
  union select store_id, hour from refusals
  union select store_id, hour from replays
)
select h.hour,
       s.name as store_name,
       coalesce(e.mutations, 0) as mutations,
       coalesce(e.carts_created, 0) as carts_created,
       coalesce(e.checkouts, 0) as checkouts,
       coalesce(e.checkout_value_cents, 0)::bigint as checkout_value_cents,
       coalesce(e.locks_taken, 0) as locks_taken,
       l.lock_seconds_avg,
       l.lock_seconds_max,
       coalesce(e.locks_expired, 0) as locks_expired,
       coalesce(r.version_conflicts, 0) as version_conflicts,
       coalesce(r.locked_refusals, 0) as locked_refusals,
       coalesce(r.busy_answers, 0) as busy_answers,
       coalesce(p.idempotent_replays, 0)::bigint as idempotent_replays,
       coalesce(e.merges, 0) as merges,
       coalesce(e.ops_fixes, 0) as ops_fixes,
       h.store_id
  from hours h
  join pos.stores s on s.id = h.store_id
  left join events e on e.store_id = h.store_id and e.hour = h.hour
  left join locks l on l.store_id = h.store_id and l.hour = h.hour
  left join refusals r on r.store_id = h.store_id and r.hour = h.hour
  left join replays p on p.store_id = h.store_id and p.hour = h.hour
$$;

-- SECURITY DEFINER: it rewrites carts in every store, which no client role may
-- write; pos.assert_ops_caller refuses anyone but service_role and the database's
-- own roles (the migration that adds the unique indexes runs it first).
create or replace function public.merge_duplicate_carts()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pos.assert_ops_caller();
  return to_jsonb(pos.merge_duplicates(null, '{}'));
end;
$$;
grant execute on function public.merge_duplicate_carts() to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.ops_cart_row checks the
-- caller is service_role or an owner or manager of the cart's store first.
-- The lock's token is kept, as when a lock expires: a payment that went through
-- while the lock was stuck can still complete if no item changes meanwhile. A
-- cart that holds no lock comes back unchanged, so a retried release is harmless.
create or replace function public.release_cart_lock(p_cart_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart pos.carts := pos.ops_cart_row(p_cart_id, p_reason);
begin
  perform pos.assert_cart_open(v_cart);
  if v_cart.status <> 'locked' then
    return pos.cart_snapshot(p_cart_id);
  end if;
  update pos.carts c set status = 'active', lock_expires_at = least(c.lock_expires_at, now())
   where c.id = p_cart_id;
  return pos.publish_cart_change(p_cart_id, 'unlocked', jsonb_build_object(
    'by_ops', true, 'reason', p_reason, 'checkout_ref', v_cart.lock_checkout_ref,
    'locked_version', v_cart.locked_version, 'expires_at', v_cart.lock_expires_at,
    'lock_had_expired', v_cart.lock_expires_at <= now()));
end;
$$;
grant execute on function public.release_cart_lock(uuid, text) to authenticated, service_role;

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

-- SECURITY DEFINER: clients have no write grant; pos.ops_cart_row checks the
-- caller is service_role or an owner or manager of the cart's store first.
-- Totals are recomputed from the lines by pos.publish_cart_change, as after every
-- mutation; a `repaired` event (and a version) is recorded only when they were
-- wrong. A cart under a live lock is refused (cart_locked): the payment in flight
-- was priced from those totals, so release the lock first.
create or replace function public.repair_cart_totals(p_cart_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart pos.carts := pos.ops_cart_row(p_cart_id, p_reason);
  v_lines record;
begin
  if v_cart.status = 'locked' and v_cart.lock_expires_at > now() then
    perform pos.raise('cart_locked', 'The cart is locked for checkout; release the lock before repairing it.',
      jsonb_build_object('expires_at', v_cart.lock_expires_at, 'checkout_ref', v_cart.lock_checkout_ref));
  end if;
  select coalesce(sum(i.quantity * i.unit_price_cents), 0) as subtotal_cents,
         coalesce(sum(i.quantity), 0) as item_count
    into v_lines
    from pos.cart_items i where i.cart_id = p_cart_id;
  if v_lines.subtotal_cents = v_cart.subtotal_cents and v_lines.item_count = v_cart.item_count then
    return pos.cart_snapshot(p_cart_id);
  end if;
  return pos.publish_cart_change(p_cart_id, 'repaired', jsonb_build_object(
    'by_ops', true, 'reason', p_reason,
    'before', jsonb_build_object('subtotal_cents', v_cart.subtotal_cents, 'item_count', v_cart.item_count),
    'after', jsonb_build_object('subtotal_cents', v_lines.subtotal_cents, 'item_count', v_lines.item_count)));
end;
$$;
grant execute on function public.repair_cart_totals(uuid, text) to authenticated, service_role;

-- SECURITY DEFINER: it rewrites the store's carts, which no client role may
-- write; the caller is checked first (service_role, or an owner or manager of
-- that store). merge_duplicate_carts does the same for every store.
create or replace function public.merge_store_duplicate_carts(p_store_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pos.assert_ops_role();
  if p_store_id is null then
    perform pos.raise('invalid_input', 'A store is required.');
  end if;
  perform pos.assert_reason(p_reason);
  perform pos.assert_store_operator((select s.id from pos.stores s where s.id = p_store_id), 'store');
  return to_jsonb(pos.merge_duplicates(p_store_id, jsonb_build_object('by_ops', true, 'reason', p_reason)));
end;
$$;
grant execute on function public.merge_store_duplicate_carts(uuid, text) to authenticated, service_role;

-- SECURITY DEFINER: the figures (pos.store_health, behind ops.store_health)
-- come from tables no client may read whole; the caller is checked first
-- (service_role, or an owner or manager of the store). The store's hourly
-- figures since p_since (default: the last 24 hours, at most 31 days back),
-- newest hour first.
create or replace function public.get_store_health(p_store_id uuid, p_since timestamptz default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_since timestamptz := date_trunc('hour', coalesce(p_since, now() - interval '24 hours'));
begin
  perform pos.assert_ops_role();
  if p_store_id is null then
    perform pos.raise('invalid_input', 'A store is required.');
  end if;
  if v_since < now() - interval '31 days' then
    perform pos.raise('invalid_input', 'Store health reaches at most 31 days back.');
  end if;
  perform pos.assert_store_operator((select s.id from pos.stores s where s.id = p_store_id), 'store');
  return coalesce((
    select jsonb_agg(to_jsonb(h) - 'store_name' order by h.hour desc)
      from pos.store_health(p_store_id, v_since) h), '[]'::jsonb);
end;
$$;
grant execute on function public.get_store_health(uuid, timestamptz) to authenticated, service_role;

-- SECURITY DEFINER: ops.alerts is readable by the database's own roles only;
-- the caller is checked first (service_role, or an owner or manager of the
-- store). What needs a person in that store now, worst first.
create or replace function public.list_store_alerts(p_store_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform pos.assert_ops_role();
  if p_store_id is null then
    perform pos.raise('invalid_input', 'A store is required.');
  end if;
  perform pos.assert_store_operator((select s.id from pos.stores s where s.id = p_store_id), 'store');
  return coalesce((
    select jsonb_agg(jsonb_build_object(
        'kind', a.kind, 'severity', a.severity, 'since', a.since, 'opened_at', a.opened_at,
        'location_id', a.location_id, 'location_name', a.location_name,
        'customer_id', a.customer_id, 'customer_name', a.customer_name,
        'cart_id', a.cart_id, 'detail', a.detail)
      order by a.severity = 'critical' desc, a.since)
      from ops.alerts a
     where a.store_id = p_store_id), '[]'::jsonb);
end;
$$;
grant execute on function public.list_store_alerts(uuid) to authenticated, service_role;

-- SECURITY DEFINER: it writes pos.refusals, which no client role may write;
-- pos.assert_ops_caller refuses anyone but service_role. The functions call it
-- after answering a version_conflict, cart_locked or busy, in a transaction of
-- its own: the refused request rolled back, so nothing of it survives to count.
-- Returns whether the refusal was recorded (false when its object is unknown).
create or replace function public.record_refusal(
  p_code text,
  p_rpc text,
  p_cart_id uuid default null,
  p_location_id uuid default null,
  p_entry_id uuid default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_store_id uuid;
begin
  perform pos.assert_ops_caller();
  if p_code is null or p_code not in ('version_conflict', 'cart_locked', 'busy') then
    perform pos.raise('invalid_input', 'Only version_conflict, cart_locked and busy are counted.');
  end if;
  if p_rpc is null or length(p_rpc) not between 1 and 100 then
    perform pos.raise('invalid_input', 'The RPC name is 1 to 100 characters.');
  end if;
  v_store_id := coalesce(
    (select c.store_id from pos.carts c where c.id = p_cart_id),
    (select l.store_id from pos.locations l where l.id = p_location_id),
    (select e.store_id from pos.queue_entries e where e.id = p_entry_id));
  if v_store_id is null then
    return 'false'::jsonb;
  end if;
  insert into pos.refusals (store_id, code, rpc) values (v_store_id, p_code, p_rpc);
  return 'true'::jsonb;
end;
$$;
grant execute on function public.record_refusal(text, text, uuid, uuid, uuid) to authenticated, service_role;

-- SECURITY DEFINER: it writes pos.alert_history, which no client role may write;
-- pos.assert_ops_caller refuses anyone but service_role and the database's own
-- roles (pg_cron). Runs every minute where pg_cron is installed; elsewhere call
-- it from any scheduler. Returns {opened, closed, open}.
create or replace function public.check_alerts()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pos.assert_ops_caller();
  return pos.check_alerts(now());
end;
$$;
grant execute on function public.check_alerts() to authenticated, service_role;

-- The invariants and the live state, one view each, with the names a person
-- looks for first and the ids after; worst first.

-- Invariant 1, which the partial unique indexes enforce: this view stays empty.
-- Fix: merge_store_duplicate_carts (docs/operations.md).
create view ops.duplicate_open_carts with (security_invoker = true) as
select s.name as store_name,
       l.name as location_name,
       cu.name as customer_name,
       d.device_id,
       d.open_carts,
       d.oldest_created_at,
       d.newest_created_at,
       d.cart_ids,
       d.location_id,
       d.customer_id,
       d.store_id
  from (
    select c.store_id,
           c.location_id,
           c.customer_id,
           case when c.customer_id is null then c.device_id end as device_id,
           count(*) as open_carts,
           min(c.created_at) as oldest_created_at,
           max(c.created_at) as newest_created_at,
           array_agg(c.id order by c.created_at, c.id) as cart_ids
      from pos.carts c
     where c.status in ('active', 'locked')
     group by c.store_id, c.location_id, c.customer_id, case when c.customer_id is null then c.device_id end
    having count(*) > 1
  ) d
  join pos.stores s on s.id = d.store_id
  join pos.locations l on l.id = d.location_id
  left join pos.customers cu on cu.id = d.customer_id
 order by d.open_carts desc, d.oldest_created_at;

-- Locks held now; expired ones (still recorded as held) first, longest overdue
-- first. Fix for a stuck one: release_cart_lock, or expire_cart_locks for all.
create view ops.cart_locks with (security_invoker = true) as
select s.name as store_name,
       l.name as location_name,
       cu.name as customer_name,
       case when c.lock_expires_at > now() then 'live' else 'expired' end as state,
       c.lock_expires_at as expires_at,
       greatest(c.lock_expires_at - now(), interval '0') as time_left,
       greatest(now() - c.lock_expires_at, interval '0') as overdue,
       c.lock_checkout_ref as checkout_ref,
       c.lock_total_cents as total_cents,
       c.locked_version,
       c.id as cart_id,
       c.store_id,
       c.location_id
  from pos.carts c
  join pos.stores s on s.id = c.store_id
  join pos.locations l on l.id = c.location_id
  left join pos.customers cu on cu.id = c.customer_id
 where c.status = 'locked'
 order by c.lock_expires_at;

-- Invariant 3: this view stays empty. Fix: repair_cart_totals.
create view ops.cart_total_mismatches with (security_invoker = true) as
select s.name as store_name,
       l.name as location_name,
       cu.name as customer_name,
       c.status,
       c.subtotal_cents,
       lines.subtotal_cents as lines_subtotal_cents,
       c.item_count,
       lines.item_count as lines_item_count,
       c.updated_at,
       c.id as cart_id,
       c.store_id
  from pos.carts c
  cross join lateral (
    select coalesce(sum(i.quantity * i.unit_price_cents), 0) as subtotal_cents,
           coalesce(sum(i.quantity), 0) as item_count
      from pos.cart_items i where i.cart_id = c.id) lines
  join pos.stores s on s.id = c.store_id
  join pos.locations l on l.id = c.location_id
  left join pos.customers cu on cu.id = c.customer_id
 where c.subtotal_cents <> lines.subtotal_cents or c.item_count <> lines.item_count
 order by abs(c.subtotal_cents - lines.subtotal_cents) desc, c.updated_at;

-- Invariant 4: versions 1..version, each with one event. This view stays empty.
create view ops.cart_history_gaps with (security_invoker = true) as
select s.name as store_name,
       g.version, g.events, g.first_version, g.last_version, g.cart_id, g.store_id
  from (
    select c.id as cart_id, c.store_id, c.version, count(e.id) as events, min(e.version) as first_version,
           max(e.version) as last_version
      from pos.carts c
      left join pos.cart_events e on e.cart_id = c.id
     group by c.id, c.store_id, c.version
    having count(e.id) <> c.version or min(e.version) <> 1 or max(e.version) <> c.version
  ) g
  join pos.stores s on s.id = g.store_id
 order by abs(g.version - g.events) desc, g.cart_id;

-- Invariant 6: live entries whose cart is not the customer's open cart there.
create view ops.queue_entries_off_cart with (security_invoker = true) as
select l.name as location_name,
       cu.name as customer_name,
       e.ticket_number,
       c.status as cart_status,
       e.id as entry_id,
       e.location_id,
       e.customer_id,
       e.cart_id
  from pos.queue_entries e
  join pos.carts c on c.id = e.cart_id
  join pos.locations l on l.id = e.location_id
  join pos.customers cu on cu.id = e.customer_id
 where e.status in ('waiting', 'serving')
   and (c.status not in ('active', 'locked') or c.customer_id is distinct from e.customer_id
        or c.location_id <> e.location_id)
 order by e.joined_at;

-- Each location's queue now; the longest wait first.
create view ops.queue_now with (security_invoker = true) as
select l.store_id,
       e.location_id,
       l.name as location_name,
       e.ticket_number,
       e.status,
       case when e.status = 'waiting'
         then count(*) filter (where e.status = 'waiting') over (partition by e.location_id order by e.ticket_number)
       end as position,
       cu.name as customer_name,
       e.customer_id,
       e.cart_id,
       e.joined_at,
       e.called_at,
       now() - e.joined_at as waited
  from pos.queue_entries e
  join pos.locations l on l.id = e.location_id
  join pos.customers cu on cu.id = e.customer_id
 where e.status in ('waiting', 'serving')
 order by e.joined_at;

revoke all on all tables in schema ops from public, anon, authenticated, service_role;

-- Per store and hour, how the carts are doing: pos.store_health (which says
-- what each figure counts) over all stores and all recorded time, newest first.
create view ops.store_health with (security_invoker = true) as
select * from pos.store_health(null, '-infinity') h
 order by h.hour desc, h.store_name;

revoke all on ops.store_health from public, anon, authenticated, service_role;

-- Every lock and how it ended (pos.lock_spans): those still held first, then
-- the longest held.
create view ops.lock_history with (security_invoker = true) as
select s.name as store_name,
       l.name as location_name,
       cu.name as customer_name,
       h.locked_at,
       h.ended_at,
       h.ended_by,
       h.seconds,
       h.checkout_ref,
       h.locked_version,
       h.cart_id,
       h.store_id
  from pos.lock_spans(null, '-infinity') h
  join pos.carts c on c.id = h.cart_id
  join pos.stores s on s.id = h.store_id
  join pos.locations l on l.id = c.location_id
  left join pos.customers cu on cu.id = c.customer_id
 order by h.ended_at is null desc, h.seconds desc nulls last, h.locked_at desc;

revoke all on ops.lock_history from public, anon, authenticated, service_role;

-- What needs a person now, worst first: every condition of pos.alerts_at (the
-- thresholds are described there), with the names a person looks for, and when
-- the every-minute check first recorded it (null until it has run).
create view ops.alerts with (security_invoker = true) as
select a.severity,
       a.kind,
       s.name as store_name,
       l.name as location_name,
       cu.name as customer_name,
       a.since,
       now() - a.since as for_how_long,
       h.opened_at,
       a.detail,
       a.cart_id,
       a.subject,
       a.store_id,
       a.location_id,
       a.customer_id
  from pos.alerts_at(now()) a
  join pos.stores s on s.id = a.store_id
  left join pos.locations l on l.id = a.location_id
  left join pos.customers cu on cu.id = a.customer_id
  left join pos.alert_history h on h.kind = a.kind and h.subject = a.subject and h.closed_at is null
 order by a.severity = 'critical' desc, a.since, s.name;

-- When each alert opened and closed (the check's record), open ones first, newest first.
create view ops.alert_history with (security_invoker = true) as
select h.kind,
       h.severity,
       s.name as store_name,
       h.since,
       h.opened_at,
       h.closed_at,
       coalesce(h.closed_at, now()) - h.opened_at as open_for,
       h.detail,
       h.subject,
       h.store_id,
       h.id
  from pos.alert_history h
  join pos.stores s on s.id = h.store_id
 order by h.closed_at is null desc, h.opened_at desc, h.id desc;

revoke all on ops.alerts, ops.alert_history from public, anon, authenticated, service_role;

-- Where pg_cron is installed (Supabase: Database > Extensions > pg_cron), expired
-- locks are released every minute even if no one touches the cart, and old
-- idempotency keys are dropped after a week; alerts are checked every minute.
-- Without pg_cron, call public.expire_cart_locks() and public.check_alerts()
-- every minute from any scheduler as service_role.
--
-- pg_cron is often enabled after onecart's migrations ran. An event trigger on
-- `create extension` cannot see that on a project: supautils lets `postgres`
-- create event triggers, but skips them while an extension is created (the
-- Dashboard creates it as a superuser). So the schedule is ensured from three
-- places: this migration, the functions (once per instance and every ten
-- minutes after, through their own connection as `postgres`), and by hand with
-- `select pos.ensure_maintenance_schedule()` in the SQL editor.
create or replace function pos.ensure_maintenance_schedule()
returns text[]
language plpgsql
set search_path = ''
as $$
declare
  v_job record;
  v_scheduled text[] := '{}';
begin
  if to_regprocedure('cron.schedule(text, text, text)') is null then
    return v_scheduled;
  end if;
  for v_job in
    select * from (values
      ('onecart-expire-cart-locks', '* * * * *', 'select public.expire_cart_locks()'),
      ('onecart-purge-idempotency-keys', '17 3 * * *',
       'delete from pos.idempotency_keys where created_at < now() - interval ''7 days'''),
      -- Alerts open and close within a minute (docs/operations.md); refusals are
      -- kept as far back as ops.store_health reaches.
      ('onecart-check-alerts', '* * * * *', 'select public.check_alerts()'),
      ('onecart-purge-refusals', '29 3 * * *',
       'delete from pos.refusals where at < now() - interval ''31 days''')
    ) as j(name, schedule, command)
  loop
    -- Only what is missing: a project's own change to a job's schedule stays.
    if not exists (select from cron.job j where j.jobname = v_job.name) then
      perform cron.schedule(v_job.name, v_job.schedule, v_job.command);
      v_scheduled := v_scheduled || v_job.name;
    end if;
  end loop;
  return v_scheduled;
end;
$$;
comment on function pos.ensure_maintenance_schedule() is
  'Schedules onecart''s pg_cron jobs that are missing, if pg_cron is installed; returns the ones it scheduled.';
-- Only the project role: the functions and migrations run as postgres, the owner.

do $$
begin
  if to_regprocedure('cron.schedule(text, text, text)') is null then
    raise notice 'pg_cron is not installed: the functions schedule public.expire_cart_locks() once it is';
  end if;
  perform pos.ensure_maintenance_schedule();
end $$;

alter default privileges grant execute on functions to public;
