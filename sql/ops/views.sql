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
