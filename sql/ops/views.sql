-- Views for a person in Supabase Studio (SQL editor or table view of schema
-- ops), and the queries the tests assert invariants with. Not exposed by
-- PostgREST; readable by the database's own roles only.
create schema ops;
comment on schema ops is 'Operations views over onecart: open them in Supabase Studio.';
revoke all on schema ops from public;

-- Invariant 1, which the partial unique indexes enforce: this view stays empty.
create view ops.duplicate_open_carts with (security_invoker = true) as
select c.location_id,
       c.customer_id,
       case when c.customer_id is null then c.device_id end as device_id,
       count(*) as open_carts,
       array_agg(c.id order by c.created_at, c.id) as cart_ids
  from pos.carts c
 where c.status in ('active', 'locked')
 group by c.location_id, c.customer_id, case when c.customer_id is null then c.device_id end
having count(*) > 1;

create view ops.cart_locks with (security_invoker = true) as
select c.id as cart_id,
       c.store_id,
       c.location_id,
       c.lock_checkout_ref as checkout_ref,
       c.locked_version,
       c.lock_total_cents as total_cents,
       c.lock_expires_at as expires_at,
       case when c.lock_expires_at > now() then 'live' else 'expired' end as state,
       greatest(c.lock_expires_at - now(), interval '0') as time_left
  from pos.carts c
 where c.status = 'locked';

-- Invariant 3: this view stays empty.
create view ops.cart_total_mismatches with (security_invoker = true) as
select c.id as cart_id, c.subtotal_cents, lines.subtotal_cents as lines_subtotal_cents,
       c.item_count, lines.item_count as lines_item_count
  from pos.carts c
  cross join lateral (
    select coalesce(sum(i.quantity * i.unit_price_cents), 0) as subtotal_cents,
           coalesce(sum(i.quantity), 0) as item_count
      from pos.cart_items i where i.cart_id = c.id) lines
 where c.subtotal_cents <> lines.subtotal_cents or c.item_count <> lines.item_count;

-- Invariant 4: versions 1..version, each with one event. This view stays empty.
create view ops.cart_history_gaps with (security_invoker = true) as
select c.id as cart_id, c.version, count(e.id) as events, min(e.version) as first_version,
       max(e.version) as last_version
  from pos.carts c
  left join pos.cart_events e on e.cart_id = c.id
 group by c.id, c.version
having count(e.id) <> c.version or min(e.version) <> 1 or max(e.version) <> c.version;

-- Invariant 6: live entries whose cart is not the customer's open cart there.
create view ops.queue_entries_off_cart with (security_invoker = true) as
select e.id as entry_id, e.location_id, e.customer_id, e.cart_id, c.status as cart_status
  from pos.queue_entries e
  join pos.carts c on c.id = e.cart_id
 where e.status in ('waiting', 'serving')
   and (c.status not in ('active', 'locked') or c.customer_id is distinct from e.customer_id
        or c.location_id <> e.location_id);

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
 where e.status in ('waiting', 'serving');

revoke all on all tables in schema ops from public, anon, authenticated, service_role;
