-- SECURITY DEFINER: it rewrites carts in every store, which no client role may
-- write; pos.assert_ops_caller refuses anyone but service_role and the database's
-- own roles (the migration that adds the unique indexes runs it first).
create function public.merge_duplicate_carts()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pos.assert_ops_caller();
  return to_jsonb(pos.merge_duplicates(null, '{}'));
end;
$$;
grant execute on function public.merge_duplicate_carts() to authenticated, service_role;
