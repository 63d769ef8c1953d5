-- Per store and hour, how the carts are doing: pos.store_health (which says
-- what each figure counts) over all stores and all recorded time, newest first.
create view ops.store_health with (security_invoker = true) as
select * from pos.store_health(null, '-infinity') h
 order by h.hour desc, h.store_name;

revoke all on ops.store_health from public, anon, authenticated, service_role;
