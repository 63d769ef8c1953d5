-- SECURITY DEFINER: ops.alerts is readable by the database's own roles only;
-- the caller is checked first (service_role, or an owner or manager of the
-- store). What needs a person in that store now, worst first.
create function public.list_store_alerts(p_store_id uuid)
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
