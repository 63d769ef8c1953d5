-- The deliberately racy variant the concurrency tests must catch: what app code
-- builds by hand. Read, think, write, no row locks, no unique indexes, no SKIP
-- LOCKED. Applied only when ONECART_RACY=1 (see tests/db/concurrency.test.ts).
-- The pg_sleep stands for the app's round trip between its read and its write.
drop index pos.carts_one_open_per_customer_idx;
drop index pos.carts_one_open_per_device_idx;
drop index pos.queue_entries_one_live_per_customer_idx;

create or replace function public.add_item(
  p_cart_id uuid, p_product_id uuid, p_quantity integer default 1, p_options jsonb default '{}',
  p_expected_version bigint default null, p_idempotency_key text default null)
returns jsonb language plpgsql security definer set search_path = '' as $$
declare
  v_version bigint;
  v_line pos.cart_items;
  v_price bigint;
  v_name text;
begin
  select c.version into v_version from pos.carts c where c.id = p_cart_id;
  if p_idempotency_key is not null and exists (
      select 1 from pos.idempotency_keys k where k.key = p_idempotency_key) then
    return pos.cart_snapshot(p_cart_id);
  end if;
  select p.price_cents, p.name into v_price, v_name from pos.products p where p.id = p_product_id;
  select * into v_line from pos.cart_items i
   where i.cart_id = p_cart_id and i.product_id = p_product_id and i.options = coalesce(p_options, '{}');
  perform pg_sleep(0.005);
  if found then
    update pos.cart_items i set quantity = v_line.quantity + p_quantity where i.id = v_line.id;
  else
    insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents, options)
    values (p_cart_id, p_product_id, v_name, p_quantity, v_price, coalesce(p_options, '{}'))
    on conflict (cart_id, product_id, options_key) do update set quantity = excluded.quantity;
  end if;
  update pos.carts c set version = v_version + 1,
    subtotal_cents = (select coalesce(sum(quantity * unit_price_cents), 0) from pos.cart_items where cart_id = p_cart_id),
    item_count = (select coalesce(sum(quantity), 0) from pos.cart_items where cart_id = p_cart_id)
   where c.id = p_cart_id;
  insert into pos.cart_events (cart_id, version, kind, data) values (p_cart_id, v_version + 1, 'item_added', '{}')
  on conflict do nothing;
  if p_idempotency_key is not null then
    insert into pos.idempotency_keys (store_id, key, request, response)
    select c.store_id, p_idempotency_key, '{}', '{}' from pos.carts c where c.id = p_cart_id
    on conflict do nothing;
  end if;
  return pos.cart_snapshot(p_cart_id);
end $$;

create or replace function public.get_or_create_cart(
  p_location_id uuid, p_customer_id uuid default null, p_device_id text default null)
returns jsonb language plpgsql security definer set search_path = '' as $$
declare
  v_id uuid;
begin
  select c.id into v_id from pos.carts c
   where c.location_id = p_location_id and c.status in ('active', 'locked')
     and (c.customer_id = p_customer_id or (p_customer_id is null and c.device_id = p_device_id));
  if not found then
    perform pg_sleep(0.005);
    insert into pos.carts (store_id, location_id, customer_id, device_id)
    select l.store_id, p_location_id, p_customer_id, p_device_id from pos.locations l where l.id = p_location_id
    returning id into v_id;
    insert into pos.cart_events (cart_id, version, kind) values (v_id, 1, 'created');
  end if;
  return pos.cart_snapshot(v_id);
end $$;

create or replace function public.add_to_queue(p_location_id uuid, p_customer_id uuid, p_idempotency_key text default null)
returns jsonb language plpgsql security definer set search_path = '' as $$
declare
  v_cart jsonb := public.get_or_create_cart(p_location_id, p_customer_id);
  v_entry pos.queue_entries;
begin
  select * into v_entry from pos.queue_entries e
   where e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving');
  if not found then
    perform pg_sleep(0.005);
    insert into pos.queue_entries (store_id, location_id, customer_id, cart_id, ticket_number)
    select l.store_id, p_location_id, p_customer_id, (v_cart ->> 'id')::uuid,
           (select coalesce(max(ticket_number), 0) + 1 + floor(random() * 1000000)::int from pos.queue_entries)
      from pos.locations l where l.id = p_location_id
    returning * into v_entry;
  end if;
  return jsonb_build_object('entry', pos.queue_entry_json(v_entry), 'cart', v_cart);
end $$;

create or replace function public.call_next(p_location_id uuid, p_idempotency_key text default null)
returns jsonb language plpgsql security definer set search_path = '' as $$
declare
  v_entry pos.queue_entries;
begin
  select * into v_entry from pos.queue_entries e
   where e.location_id = p_location_id and e.status = 'waiting' order by e.ticket_number limit 1;
  if not found then
    return null;
  end if;
  perform pg_sleep(0.005);
  update pos.queue_entries e set status = 'serving', called_at = now() where e.id = v_entry.id returning * into v_entry;
  return pos.queue_entry_json(v_entry);
end $$;
