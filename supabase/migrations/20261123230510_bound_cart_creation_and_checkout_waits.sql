-- bound cart creation and checkout waits: from sql/internal/070_open_cart.sql, sql/rpc/complete_checkout.sql
-- Why: Two waits were still unbounded through PostgREST: an insert meeting another transaction's
-- uncommitted cart for the same customer, and a checkout marking a queue entry another request holds.
-- Both now wait at most 3 s, then answer busy.
-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- Finds the open cart for a customer (or, with no customer, a device) at a
-- location, creating it when none is open. Concurrent callers race on the insert;
-- the partial unique indexes let exactly one win and the rest read its row. The
-- loop only repeats when the winner's cart closed in between.
create or replace function pos.open_cart(p_location_id uuid, p_customer_id uuid, p_device_id text)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_store_id uuid;
  v_cart_id uuid;
begin
  select l.store_id into v_store_id from pos.locations l where l.id = p_location_id;
  perform pos.assert_store_access(v_store_id, 'location');
  if p_customer_id is not null and not exists (
      select 1 from pos.customers c where c.id = p_customer_id and c.store_id = v_store_id) then
    perform pos.raise('not_found', 'No such customer.');
  end if;

  for attempt in 1..5 loop
    -- One query per kind of cart, each the exact shape of its partial unique
    -- index: a CASE here would leave the planner scanning every open cart at
    -- the location.
    if p_customer_id is not null then
      select c.id into v_cart_id from pos.carts c
       where c.customer_id = p_customer_id and c.location_id = p_location_id
         and c.status in ('active', 'locked')
       order by c.created_at, c.id
       limit 1;
    else
      select c.id into v_cart_id from pos.carts c
       where c.device_id = p_device_id and c.location_id = p_location_id and c.customer_id is null
         and c.status in ('active', 'locked')
       order by c.created_at, c.id
       limit 1;
    end if;
    if found then
      return v_cart_id;
    end if;

    -- An insert that meets another transaction's uncommitted cart for the same
    -- customer waits for that transaction: at most 3 s, then `busy`, like every
    -- lock wait (015_bounded_waits.sql). Creating a cart is rare enough that the
    -- block's subtransaction costs nothing worth avoiding.
    perform pos.bound_lock_wait();
    begin
      insert into pos.carts (store_id, location_id, customer_id, device_id)
      values (v_store_id, p_location_id, p_customer_id, p_device_id)
      on conflict do nothing
      returning id into v_cart_id;
    exception when lock_not_available then
      perform pos.raise_busy('Another request is still opening this cart.');
    end;
    if v_cart_id is not null then
      perform pos.record_cart_created(v_cart_id,
        jsonb_build_object('customer_id', p_customer_id, 'device_id', p_device_id));
      return v_cart_id;
    end if;
  end loop;
  raise exception 'pos.open_cart: no open cart after 5 attempts for location %', p_location_id;
end;
$$;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.complete_checkout(
  p_cart_id uuid,
  p_lock_token uuid,
  p_checkout_ref text,
  p_paid_total_cents bigint,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request jsonb := jsonb_build_object('rpc', 'complete_checkout', 'cart_id', p_cart_id, 'lock_token', p_lock_token,
    'checkout_ref', p_checkout_ref, 'paid_total_cents', p_paid_total_cents, 'expected_version', p_expected_version);
  v_store_id uuid;
  v_response jsonb;
  v_cart pos.carts;
  v_entry_done boolean := false;
begin
  if p_cart_id is null or p_lock_token is null then
    perform pos.raise('invalid_input', 'A cart and a lock token are required.');
  end if;
  if p_checkout_ref is null then
    perform pos.raise('invalid_input', 'A checkout ref is required.');
  end if;
  perform pos.assert_name_text(p_checkout_ref, 'A checkout ref', 200);
  if p_paid_total_cents is null or p_paid_total_cents < 0 then
    perform pos.raise('invalid_input', 'The paid total is a non-negative number of cents.');
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  -- No lazy release of an expired lock here: its token may still complete.
  v_cart := pos.cart_row_for_update(p_cart_id);
  if v_cart.status = 'checked_out' and v_cart.lock_token = p_lock_token and v_cart.checkout_ref = p_checkout_ref then
    -- The payment terminal retrying a checkout that already went through.
    return pos.cart_snapshot(p_cart_id);
  end if;
  perform pos.assert_cart_open(v_cart);
  if v_cart.lock_token is distinct from p_lock_token then
    perform pos.raise('lock_mismatch', 'This lock token is not the cart''s latest lock.');
  end if;
  perform pos.assert_expected_version(p_expected_version, v_cart.version);
  if exists (
      select 1 from pos.cart_events e
       where e.cart_id = p_cart_id and e.version > v_cart.locked_version
         and e.kind in ('item_added', 'item_quantity_set', 'item_removed', 'merged')) then
    perform pos.raise('cart_changed', 'The lock expired and the cart changed before checkout.',
      jsonb_build_object('locked_version', v_cart.locked_version, 'current_version', v_cart.version));
  end if;
  if p_paid_total_cents <> v_cart.lock_total_cents then
    perform pos.raise('total_mismatch',
      format('Paid %s cents, the locked total is %s cents.', p_paid_total_cents, v_cart.lock_total_cents),
      jsonb_build_object('total_cents', v_cart.lock_total_cents));
  end if;

  update pos.carts c
     set status = 'checked_out', checkout_ref = p_checkout_ref, paid_total_cents = p_paid_total_cents,
         checked_out_at = now()
   where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'checked_out', jsonb_build_object(
    'checkout_ref', p_checkout_ref, 'paid_total_cents', p_paid_total_cents, 'locked_version', v_cart.locked_version));

  -- The customer's entry may be held by a queue change in flight: waited for at
  -- most 3 s, then `busy`, and the whole checkout rolls back.
  perform pos.bound_lock_wait();
  begin
    update pos.queue_entries e
       set status = 'done', finished_at = now()
     where e.location_id = v_cart.location_id and e.customer_id = v_cart.customer_id
       and e.status in ('waiting', 'serving');
    v_entry_done := found;
  exception when lock_not_available then
    perform pos.raise_busy('Another request is still changing this customer''s queue entry.');
  end;
  if v_entry_done then
    perform pos.publish_queue(v_cart.location_id);
  end if;

  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.complete_checkout(uuid, uuid, text, bigint, bigint, text) to authenticated, service_role;

alter default privileges grant execute on functions to public;
