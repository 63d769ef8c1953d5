-- The API role of the request. Inside a SECURITY DEFINER function current_user is
-- the owner, so the role comes from the JWT claims PostgREST (and our functions)
-- set, falling back to SET ROLE for direct SQL sessions.
create function pos.request_role()
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce(nullif(auth.jwt() ->> 'role', ''), current_setting('role'));
end;
$$;
grant execute on function pos.request_role() to authenticated, service_role;

-- Staff reach their own store. service_role and the database's own roles (the
-- migration runner, ops in Studio) reach every store. pos.cart_target applies
-- the same rule in one statement for cart mutations: change both together.
create function pos.can_access_store(p_store_id uuid)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  if pos.request_role() not in ('anon', 'authenticated') then
    return true;
  end if;
  return exists (select 1 from pos.staff s where s.user_id = auth.uid() and s.store_id = p_store_id);
end;
$$;
grant execute on function pos.can_access_store(uuid) to authenticated, service_role;

-- Another store's row answers exactly like a missing one: not_found, so ids
-- cannot be probed across stores.
create function pos.assert_store_access(p_store_id uuid, p_what text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_store_id is null or not pos.can_access_store(p_store_id) then
    perform pos.raise('not_found', format('No such %s.', p_what));
  end if;
end;
$$;

create function pos.assert_ops_caller()
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if pos.request_role() in ('anon', 'authenticated') then
    perform pos.raise('forbidden', 'Only service_role may call this.');
  end if;
end;
$$;
