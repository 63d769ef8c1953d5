-- SECURITY DEFINER: it rewrites carts in every store, which no client role may
-- write; pos.assert_ops_caller refuses anyone but service_role and the database's
-- own roles (the migration that adds the unique indexes runs it first).
create function public.merge_duplicate_carts()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_pair record;
  v_count integer := 0;
begin
  perform pos.assert_ops_caller();
  -- Every duplicate with the oldest open cart of its group, which survives.
  for v_pair in
    select d.id as from_id, d.survivor_id as into_id
      from (
        select c.id,
               first_value(c.id) over w as survivor_id,
               row_number() over w as n
          from pos.carts c
         where c.status in ('active', 'locked')
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
    perform pos.fold_cart(v_pair.from_id, v_pair.into_id);
    v_count := v_count + 1;
  end loop;
  return to_jsonb(v_count);
end;
$$;
grant execute on function public.merge_duplicate_carts() to authenticated, service_role;
