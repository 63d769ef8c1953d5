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
create function pos.lock_spans(p_store_id uuid, p_from timestamptz)
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
create function pos.store_health(p_store_id uuid, p_from timestamptz)
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
