-- SECURITY DEFINER: it writes pos.refusals, which no client role may write;
-- pos.assert_ops_caller refuses anyone but service_role. The functions call it
-- after answering a version_conflict, cart_locked or busy, in a transaction of
-- its own: the refused request rolled back, so nothing of it survives to count.
-- Returns whether the refusal was recorded (false when its object is unknown).
create function public.record_refusal(
  p_code text,
  p_rpc text,
  p_cart_id uuid default null,
  p_location_id uuid default null,
  p_entry_id uuid default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_store_id uuid;
begin
  perform pos.assert_ops_caller();
  if p_code is null or p_code not in ('version_conflict', 'cart_locked', 'busy') then
    perform pos.raise('invalid_input', 'Only version_conflict, cart_locked and busy are counted.');
  end if;
  if p_rpc is null or length(p_rpc) not between 1 and 100 then
    perform pos.raise('invalid_input', 'The RPC name is 1 to 100 characters.');
  end if;
  v_store_id := coalesce(
    (select c.store_id from pos.carts c where c.id = p_cart_id),
    (select l.store_id from pos.locations l where l.id = p_location_id),
    (select e.store_id from pos.queue_entries e where e.id = p_entry_id));
  if v_store_id is null then
    return 'false'::jsonb;
  end if;
  insert into pos.refusals (store_id, code, rpc) values (v_store_id, p_code, p_rpc);
  return 'true'::jsonb;
end;
$$;
grant execute on function public.record_refusal(text, text, uuid, uuid, uuid) to authenticated, service_role;
