-- SECURITY DEFINER: the figures (pos.store_health, behind ops.store_health)
-- come from tables no client may read whole; the caller is checked first
-- (service_role, or an owner or manager of the store). The store's hourly
-- figures since p_since (default: the last 24 hours, at most 31 days back),
-- newest hour first.
create function public.get_store_health(p_store_id uuid, p_since timestamptz default null)
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
