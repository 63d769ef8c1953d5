-- add get staff home: from sql/rpc/get_staff_home.sql
-- Why: The POS app needs the caller's stores, locations, products and customers after sign-in, and pos
-- is not exposed through PostgREST.
-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- What a POS app needs after sign-in to show its first screen: the caller's
-- stores with their role, locations, active products and customers. pos is not
-- exposed through PostgREST, so the app reads it here. Runs as the caller: the
-- row policies decide what is visible, so a staff member sees only their stores.
create or replace function public.get_staff_home()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
    'id', st.id,
    'name', st.name,
    'role', sf.role,
    'locations', coalesce((
      select jsonb_agg(jsonb_build_object('id', l.id, 'name', l.name) order by l.name, l.id)
        from pos.locations l where l.store_id = st.id), '[]'::jsonb),
    'products', coalesce((
      select jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name, 'price_cents', p.price_cents)
               order by p.name, p.id)
        from pos.products p where p.store_id = st.id and p.active), '[]'::jsonb),
    'customers', coalesce((
      select jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name) order by c.name, c.id)
        from pos.customers c where c.store_id = st.id), '[]'::jsonb)
  ) order by st.name, st.id), '[]'::jsonb)
  from pos.staff sf
  join pos.stores st on st.id = sf.store_id
  where sf.user_id = (select auth.uid());
$$;
grant execute on function public.get_staff_home() to authenticated, service_role;

alter default privileges grant execute on functions to public;
