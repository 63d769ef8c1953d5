-- Finds the open cart for a customer (or, with no customer, a device) at a
-- location, creating it when none is open. Concurrent callers race on the insert;
-- the partial unique indexes let exactly one win and the rest read its row. The
-- loop only repeats when the winner's cart closed in between.
create function pos.open_cart(p_location_id uuid, p_customer_id uuid, p_device_id text)
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
  -- Every attempt found the winner's cart closed again before it could be read.
  perform pos.raise_busy('The customer''s cart kept changing while it was being opened.');
end;
$$;
