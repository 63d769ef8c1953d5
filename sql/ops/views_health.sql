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
