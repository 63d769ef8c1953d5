-- SECURITY DEFINER: it rewrites the store's carts, which no client role may
-- write; the caller is checked first (service_role, or an owner or manager of
-- that store). merge_duplicate_carts does the same for every store.
create function public.merge_store_duplicate_carts(p_store_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pos.assert_ops_role();
  if p_store_id is null then
    perform pos.raise('invalid_input', 'A store is required.');
  end if;
  perform pos.assert_reason(p_reason);
  perform pos.assert_store_operator((select s.id from pos.stores s where s.id = p_store_id), 'store');
  return to_jsonb(pos.merge_duplicates(p_store_id, jsonb_build_object('by_ops', true, 'reason', p_reason)));
end;
$$;
grant execute on function public.merge_store_duplicate_carts(uuid, text) to authenticated, service_role;
