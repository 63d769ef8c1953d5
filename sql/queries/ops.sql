-- Everyday ops queries for Supabase Studio's SQL editor (run as postgres). Not
-- a migration; nothing here changes the schema. Replace the :placeholders.

-- A customer's carts, newest first, with what happened to each.
select c.id, c.location_id, c.status, c.version, c.item_count, c.subtotal_cents, c.updated_at,
       (select jsonb_agg(jsonb_build_object('v', e.version, 'kind', e.kind, 'by', e.actor_id, 'at', e.at)
                         order by e.version)
          from pos.cart_events e where e.cart_id = c.id) as history
  from pos.carts c
 where c.customer_id = :'customer_id'
 order by c.created_at desc;

-- The audit trail of one cart, for a dispute.
select e.version, e.kind, e.at, s.user_id as staff, e.data
  from pos.cart_events e
  left join pos.staff s on s.user_id = e.actor_id
 where e.cart_id = :'cart_id'
 order by e.version;

-- Locks that outlived their checkout: release them now (pg_cron does this
-- every minute where it is installed).
select * from ops.cart_locks where state = 'expired';
select public.expire_cart_locks();

-- What needs a person now, worst first, and when each alert opened and closed.
select * from ops.alerts;
select * from ops.alert_history limit 50;
-- Each store's figures by hour, newest first.
select * from ops.store_health where hour > now() - interval '1 day';
-- Locks of the last day, the longest held first, and how each ended.
select * from ops.lock_history where locked_at > now() - interval '1 day';

-- The fixes (docs/operations.md says which alert each answers). Each records
-- the reason in the cart's history and broadcasts the change.
select public.release_cart_lock(:'cart_id', :'reason');
select public.abandon_cart(:'cart_id', :'reason');
select public.repair_cart_totals(:'cart_id', :'reason');
select public.merge_store_duplicate_carts(:'store_id', :'reason');
-- Check the alerts now rather than at the next minute.
select public.check_alerts();

-- The invariants at a glance: every one of these returns no rows.
select 'duplicate open carts' as check, count(*) from ops.duplicate_open_carts
union all select 'totals disagree with lines', count(*) from ops.cart_total_mismatches
union all select 'history gaps', count(*) from ops.cart_history_gaps
union all select 'queue entries off their cart', count(*) from ops.queue_entries_off_cart;

-- Each location's queue now.
select location_name, ticket_number, status, position, customer_name, waited
  from ops.queue_now
 order by location_name, ticket_number;

-- Mutations per kind in the last hour, and who made them.
select e.kind, count(*), count(distinct e.actor_id) as staff
  from pos.cart_events e
 where e.at > now() - interval '1 hour'
 group by e.kind
 order by count(*) desc;

-- Idempotency keys are kept a week (pg_cron purges them daily).
delete from pos.idempotency_keys where created_at < now() - interval '7 days';
