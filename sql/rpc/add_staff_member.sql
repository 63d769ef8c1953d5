-- Makes an Auth user a member of a store's staff (or changes their role there).
-- `npm run staff:add` calls it with the project's secret key after creating the
-- user through the Auth admin API: `pos` is not exposed, so this RPC is how a
-- server integration reaches pos.staff without the database password.
-- SECURITY DEFINER: no API role may write pos.staff. EXECUTE is granted to
-- service_role only (staff get `forbidden`, from the missing grant), so no
-- signed-in user can reach this definer function at all (hosted lint 0029);
-- pos.assert_ops_caller refuses anon and authenticated should a grant ever widen.
create function public.add_staff_member(p_user_id uuid, p_store_id uuid, p_role text default 'staff')
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_staff pos.staff;
begin
  perform pos.assert_ops_caller();
  if p_user_id is null or p_store_id is null then
    perform pos.raise('invalid_input', 'A user id and a store id are required.');
  end if;
  if p_role is null or p_role not in ('owner', 'manager', 'staff') then
    perform pos.raise('invalid_input', 'The role must be owner, manager or staff.');
  end if;
  if not exists (select from pos.stores s where s.id = p_store_id) then
    perform pos.raise('not_found', 'No store has this id.');
  end if;
  if not exists (select from auth.users u where u.id = p_user_id) then
    perform pos.raise('not_found', 'No Auth user has this id.');
  end if;
  insert into pos.staff (user_id, store_id, role) values (p_user_id, p_store_id, p_role)
  on conflict (user_id, store_id) do update set role = excluded.role
  returning * into v_staff;
  return jsonb_build_object('user_id', v_staff.user_id, 'store_id', v_staff.store_id, 'role', v_staff.role);
end;
$$;
grant execute on function public.add_staff_member(uuid, uuid, text) to service_role;
