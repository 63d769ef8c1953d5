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
