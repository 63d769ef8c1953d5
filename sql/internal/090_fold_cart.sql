-- Moves every line of one open cart into another (quantities added where the
-- product and options match; the surviving line keeps its price), closes the
-- first as `merged`, and repoints its queue entries. Both carts get a version
-- and a `merged` event (with p_data added: an ops merge records its reason). The
-- caller holds both row locks.
create function pos.fold_cart(p_from uuid, p_into uuid, p_data jsonb default '{}')
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_items jsonb;
  v_location_id uuid;
begin
  select coalesce(jsonb_agg(jsonb_build_object(
           'product_id', i.product_id, 'quantity', i.quantity,
           'unit_price_cents', i.unit_price_cents, 'options', i.options) order by i.line_no), '[]')
    into v_items
    from pos.cart_items i where i.cart_id = p_from;

  insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents, options, added_at)
  select p_into, i.product_id, i.name, i.quantity, i.unit_price_cents, i.options, i.added_at
    from pos.cart_items i where i.cart_id = p_from
   order by i.line_no
  on conflict (cart_id, product_id, options_key)
  do update set quantity = pos.cart_items.quantity + excluded.quantity;
  delete from pos.cart_items i where i.cart_id = p_from;

  update pos.carts c set status = 'merged', merged_into = p_into
   where c.id = p_from
  returning c.location_id into v_location_id;
  perform pos.publish_cart_change(p_from, 'merged',
    jsonb_build_object('merged_into', p_into, 'items', v_items) || coalesce(p_data, '{}'));
  perform pos.publish_cart_change(p_into, 'merged',
    jsonb_build_object('merged_from', p_from, 'items', v_items) || coalesce(p_data, '{}'));

  perform pos.lock_queue_entries_of(null, null, p_from);
  update pos.queue_entries e set cart_id = p_into where e.cart_id = p_from;
  if found then
    perform pos.publish_queue(v_location_id);
  end if;
end;
$$;

-- Folds every duplicate open cart (same customer, or same device for carts with
-- no customer, at one location) into the oldest open cart of its group: all
-- stores when p_store_id is null, else that store's. Returns how many folded.
create function pos.merge_duplicates(p_store_id uuid, p_data jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_pair record;
  v_count integer := 0;
begin
  for v_pair in
    select d.id as from_id, d.survivor_id as into_id
      from (
        select c.id,
               first_value(c.id) over w as survivor_id,
               row_number() over w as n
          from pos.carts c
         where c.status in ('active', 'locked') and (p_store_id is null or c.store_id = p_store_id)
        window w as (
          partition by c.location_id, coalesce(c.customer_id::text, 'device:' || c.device_id)
          order by c.created_at, c.id)
      ) d
     where d.n > 1
     order by d.survivor_id, d.id
  loop
    -- Row locks in id order, the same order for every group; each waited for at most 3 s.
    perform pos.cart_row_for_update(least(v_pair.from_id, v_pair.into_id));
    perform pos.cart_row_for_update(greatest(v_pair.from_id, v_pair.into_id));
    -- A cart closed since the scan began is no longer a duplicate.
    continue when (select count(*) from pos.carts c
                    where c.id in (v_pair.from_id, v_pair.into_id) and c.status in ('active', 'locked')) < 2;
    perform pos.fold_cart(v_pair.from_id, v_pair.into_id, p_data);
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;
