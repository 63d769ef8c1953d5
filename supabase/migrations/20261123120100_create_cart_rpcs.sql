-- Every cart and queue mutation as one atomic RPC. Readable copies: sql/internal, sql/rpc.

-- The one way onecart reports an error: MESSAGE is the contract's code, DETAIL a
-- sentence for people, HINT a JSON object of extra data.
create function pos.raise(p_code text, p_detail text, p_hint jsonb default null)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  v_sqlstate text;
begin
  select e.sqlstate into v_sqlstate from pos.errors e where e.code = p_code;
  if v_sqlstate is null then
    raise exception 'pos.raise: unknown error code %', p_code;
  end if;
  if p_hint is null then
    raise exception using errcode = v_sqlstate, message = p_code, detail = p_detail;
  end if;
  raise exception using errcode = v_sqlstate, message = p_code, detail = p_detail, hint = p_hint::text;
end;
$$;
grant execute on function pos.raise(text, text, jsonb) to authenticated, service_role;

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
-- migration runner, ops in Studio) reach every store.
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

-- Invariant 7. The advisory lock makes two concurrent requests with one key
-- queue behind each other: the second sees the first's stored response. It is
-- always taken before the cart row lock, so the two cannot deadlock.
create function pos.idempotency_replay(p_store_id uuid, p_key text, p_request jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_stored pos.idempotency_keys;
begin
  if p_key is null then
    return null;
  end if;
  if length(p_key) not between 1 and 255 then
    perform pos.raise('invalid_input', 'An idempotency key is 1 to 255 characters.');
  end if;
  perform pg_advisory_xact_lock(hashtextextended(p_store_id::text || '/' || p_key, 7));
  select * into v_stored from pos.idempotency_keys k where k.store_id = p_store_id and k.key = p_key;
  if not found then
    return null;
  end if;
  if v_stored.request <> p_request then
    perform pos.raise('idempotency_key_reused',
      'This idempotency key was already used for a different request.',
      jsonb_build_object('first_request', v_stored.request -> 'rpc'));
  end if;
  return v_stored.response;
end;
$$;

create function pos.idempotency_save(p_store_id uuid, p_key text, p_request jsonb, p_response jsonb)
returns void
language plpgsql
set search_path = ''
as $$
begin
  if p_key is not null then
    insert into pos.idempotency_keys (store_id, key, request, response)
    values (p_store_id, p_key, p_request, p_response);
  end if;
end;
$$;

-- The contract's cart snapshot, without the lock token. A lock past its
-- expires_at counts as released everywhere, so it shows as `active`, lock null,
-- even before a mutation or expire_cart_locks records the release.
-- PL/pgSQL, not SQL, here and in the other hot helpers: Postgres 17 plans a SQL
-- function that has a SET clause afresh on every call (168 µs for this one);
-- PL/pgSQL keeps its plans for the session.
create function pos.cart_snapshot(p_cart_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select jsonb_build_object(
      'id', c.id,
      'store_id', c.store_id,
      'location_id', c.location_id,
      'customer_id', c.customer_id,
      'device_id', c.device_id,
      'status', case when c.status = 'locked' and not live.locked then 'active' else c.status end,
      'version', c.version,
      'items', coalesce((
        select jsonb_agg(jsonb_build_object(
            'id', i.id,
            'product_id', i.product_id,
            'name', i.name,
            'quantity', i.quantity,
            'unit_price_cents', i.unit_price_cents,
            'line_total_cents', i.quantity * i.unit_price_cents,
            'options', i.options)
          order by i.line_no)
        from pos.cart_items i
        join pos.products p on p.id = i.product_id
        where i.cart_id = c.id), '[]'::jsonb),
      'item_count', c.item_count,
      'subtotal_cents', c.subtotal_cents,
      'lock', case when live.locked then jsonb_build_object(
        'expires_at', c.lock_expires_at,
        'checkout_ref', c.lock_checkout_ref,
        'locked_version', c.locked_version,
        'total_cents', c.lock_total_cents) end,
      'merged_into', c.merged_into,
      'created_at', c.created_at,
      'updated_at', c.updated_at)
    from pos.carts c
    cross join lateral (select c.status = 'locked' and c.lock_expires_at > now() as locked) live
    where c.id = p_cart_id);
end;
$$;
grant execute on function pos.cart_snapshot(uuid) to authenticated, service_role;

-- Every committed cart change ends here: totals recomputed from the lines
-- (invariant 3), version + 1 with exactly one event (invariant 4) in one
-- statement, and the snapshot broadcast in the same transaction, so a rollback
-- sends nothing. The caller holds the cart row lock.
create function pos.publish_cart_change(p_cart_id uuid, p_kind text, p_data jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  with totals as (
    select coalesce(sum(i.quantity * i.unit_price_cents), 0) as subtotal_cents,
           coalesce(sum(i.quantity), 0) as item_count
      from pos.cart_items i where i.cart_id = p_cart_id
  ), bumped as (
    update pos.carts c
       set version = c.version + 1, updated_at = now(),
           subtotal_cents = totals.subtotal_cents, item_count = totals.item_count
      from totals
     where c.id = p_cart_id
    returning c.id, c.version
  )
  insert into pos.cart_events (cart_id, version, kind, actor_id, data)
  select bumped.id, bumped.version, p_kind, auth.uid(), coalesce(p_data, '{}'::jsonb) from bumped;
  return pos.broadcast_cart(p_cart_id);
end;
$$;

-- A new cart: version 1 and its `created` event.
create function pos.record_cart_created(p_cart_id uuid, p_data jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  insert into pos.cart_events (cart_id, version, kind, actor_id, data)
  values (p_cart_id, 1, 'created', auth.uid(), p_data);
  return pos.broadcast_cart(p_cart_id);
end;
$$;

-- The snapshot, sent on cart:<id> and returned to the caller.
create function pos.broadcast_cart(p_cart_id uuid)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_snapshot jsonb := pos.cart_snapshot(p_cart_id);
begin
  perform realtime.send(v_snapshot, 'cart_updated', 'cart:' || p_cart_id::text, true);
  return v_snapshot;
end;
$$;

-- Every cart mutation starts by taking the cart's row lock: that lock is what
-- serializes concurrent mutations of one cart (invariant 2). Callers have checked
-- the caller's store with pos.cart_store, before any lock is taken.
create function pos.cart_row_for_update(p_cart_id uuid)
returns pos.carts
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts;
begin
  select * into v_cart from pos.carts c where c.id = p_cart_id for update;
  if not found then
    perform pos.raise('not_found', 'No such cart.');
  end if;
  return v_cart;
end;
$$;

create function pos.assert_cart_open(p_cart pos.carts)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_cart.status in ('checked_out', 'abandoned', 'merged') then
    perform pos.raise('cart_closed', format('The cart is %s.', p_cart.status),
      case when p_cart.status = 'merged' then jsonb_build_object('merged_into', p_cart.merged_into) end);
  end if;
end;
$$;

create function pos.assert_expected_version(p_expected_version bigint, p_current_version bigint)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_expected_version is not null and p_expected_version <> p_current_version then
    perform pos.raise('version_conflict',
      format('Expected version %s, the cart is at version %s.', p_expected_version, p_current_version),
      jsonb_build_object('current_version', p_current_version));
  end if;
end;
$$;

-- Records the release of a lock whose time ran out. The token is kept: a payment
-- that succeeded meanwhile may still complete with it if no item changes.
create function pos.release_expired_lock(p_cart_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts;
begin
  update pos.carts c set status = 'active'
   where c.id = p_cart_id and c.status = 'locked' and c.lock_expires_at <= now()
  returning * into v_cart;
  if found then
    perform pos.publish_cart_change(p_cart_id, 'lock_expired',
      jsonb_build_object('locked_version', v_cart.locked_version, 'expired_at', v_cart.lock_expires_at));
  end if;
end;
$$;

-- The prologue of a mutation of the cart's contents: missing, closed, locked,
-- stale version, in that order. An expired lock is released here first (with its
-- own version), and the version the client saw before that release still
-- counts as current. A live lock taken with p_own_lock_ref is the caller's own
-- (lock_cart retried with the same checkout_ref): it comes back unchecked.
create function pos.lock_cart_row(p_cart_id uuid, p_expected_version bigint, p_own_lock_ref text default null)
returns pos.carts
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts := pos.cart_row_for_update(p_cart_id);
  v_seen_version bigint := v_cart.version;
begin
  perform pos.assert_cart_open(v_cart);
  if v_cart.status = 'locked' and v_cart.lock_expires_at <= now() then
    perform pos.release_expired_lock(p_cart_id);
    select * into v_cart from pos.carts c where c.id = p_cart_id;
  end if;
  if v_cart.status = 'locked' then
    if p_own_lock_ref is not null and v_cart.lock_checkout_ref = p_own_lock_ref then
      return v_cart;
    end if;
    perform pos.raise('cart_locked', 'The cart is locked for checkout.',
      jsonb_build_object('expires_at', v_cart.lock_expires_at, 'checkout_ref', v_cart.lock_checkout_ref));
  end if;
  if p_expected_version is distinct from v_cart.version then
    perform pos.assert_expected_version(p_expected_version, v_seen_version);
  end if;
  return v_cart;
end;
$$;

-- The prologue of a change to a live lock (update or unlock): the token must be
-- the one of the lock in force.
create function pos.lock_cart_row_for_token(p_cart_id uuid, p_lock_token uuid, p_expected_version bigint)
returns pos.carts
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts := pos.cart_row_for_update(p_cart_id);
begin
  perform pos.assert_cart_open(v_cart);
  if v_cart.status <> 'locked' or v_cart.lock_expires_at <= now() or v_cart.lock_token is distinct from p_lock_token then
    perform pos.raise('lock_mismatch', 'This lock token does not hold a live lock on the cart.');
  end if;
  perform pos.assert_expected_version(p_expected_version, v_cart.version);
  return v_cart;
end;
$$;

-- The store of a cart, after checking the caller may touch it. Read without a
-- lock: a cart never changes store.
create function pos.cart_store(p_cart_id uuid)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_store_id uuid;
begin
  select c.store_id into v_store_id from pos.carts c where c.id = p_cart_id;
  perform pos.assert_store_access(v_store_id, 'cart');
  return v_store_id;
end;
$$;

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

    insert into pos.carts (store_id, location_id, customer_id, device_id)
    values (v_store_id, p_location_id, p_customer_id, p_device_id)
    on conflict do nothing
    returning id into v_cart_id;
    if found then
      perform pos.record_cart_created(v_cart_id,
        jsonb_build_object('customer_id', p_customer_id, 'device_id', p_device_id));
      return v_cart_id;
    end if;
  end loop;
  raise exception 'pos.open_cart: no open cart after 5 attempts for location %', p_location_id;
end;
$$;

-- The contract's queue entry, in one place. `position` is 1-based among the
-- location's waiting entries, null for any other status.
create function pos.queue_entry_object(p_entry pos.queue_entries, p_position bigint)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'id', p_entry.id,
    'location_id', p_entry.location_id,
    'customer_id', p_entry.customer_id,
    'cart_id', p_entry.cart_id,
    'ticket_number', p_entry.ticket_number,
    'status', p_entry.status,
    'position', case when p_entry.status = 'waiting' then p_position end,
    'joined_at', p_entry.joined_at,
    'called_at', p_entry.called_at);
end;
$$;
grant execute on function pos.queue_entry_object(pos.queue_entries, bigint) to authenticated, service_role;

-- One entry, as an RPC answers it: its position counted through the waiting index.
create function pos.queue_entry_json(p_entry pos.queue_entries)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return pos.queue_entry_object(p_entry, (
    select count(*) from pos.queue_entries w
     where w.location_id = p_entry.location_id and w.status = 'waiting'
       and w.ticket_number <= p_entry.ticket_number));
end;
$$;
grant execute on function pos.queue_entry_json(pos.queue_entries) to authenticated, service_role;

-- A location's queue: waiting and serving entries by ticket, positions from one
-- window over them rather than a count per entry.
create function pos.queue_snapshot(p_location_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select jsonb_build_object(
      'location_id', p_location_id,
      'entries', coalesce(jsonb_agg(pos.queue_entry_object(e.entry, e.position) order by (e.entry).ticket_number),
                          '[]'::jsonb))
    from (
      select q as entry,
             count(*) filter (where q.status = 'waiting') over (order by q.ticket_number) as position
        from pos.queue_entries q
       where q.location_id = p_location_id and q.status in ('waiting', 'serving')
    ) e);
end;
$$;
grant execute on function pos.queue_snapshot(uuid) to authenticated, service_role;

create function pos.publish_queue(p_location_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform realtime.send(pos.queue_snapshot(p_location_id), 'queue_updated', 'queue:' || p_location_id::text, true);
end;
$$;

-- Locks a queue entry for a status change, after checking the caller's store.
create function pos.lock_queue_entry(p_entry_id uuid)
returns pos.queue_entries
language plpgsql
set search_path = ''
as $$
declare
  v_entry pos.queue_entries;
begin
  select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update;
  perform pos.assert_store_access(v_entry.store_id, 'queue entry');
  return v_entry;
end;
$$;

-- Moves every line of one open cart into another (quantities added where the
-- product and options match; the surviving line keeps its price), closes the
-- first as `merged`, and repoints its queue entries. Both carts get a version
-- and a `merged` event. The caller holds both row locks.
create function pos.fold_cart(p_from uuid, p_into uuid)
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
  on conflict (cart_id, product_id, options)
  do update set quantity = pos.cart_items.quantity + excluded.quantity;
  delete from pos.cart_items i where i.cart_id = p_from;

  update pos.carts c set status = 'merged', merged_into = p_into
   where c.id = p_from
  returning c.location_id into v_location_id;
  perform pos.publish_cart_change(p_from, 'merged', jsonb_build_object('merged_into', p_into, 'items', v_items));
  perform pos.publish_cart_change(p_into, 'merged', jsonb_build_object('merged_from', p_from, 'items', v_items));

  update pos.queue_entries e set cart_id = p_into where e.cart_id = p_from;
  if found then
    perform pos.publish_queue(v_location_id);
  end if;
end;
$$;

-- Who may receive a private broadcast topic: staff of the store owning the cart
-- or location. Runs as the joining client, so the table policies decide.
create function pos.can_read_topic(p_topic text)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select case
      when p_topic ~ '^cart:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then exists (
        select 1 from pos.carts c where c.id = substr(p_topic, 6)::uuid)
      when p_topic ~ '^queue:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then exists (
        select 1 from pos.locations l where l.id = substr(p_topic, 7)::uuid)
      else false
    end);
end;
$$;
grant execute on function pos.can_read_topic(text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.add_item(
  p_cart_id uuid,
  p_product_id uuid,
  p_quantity integer default 1,
  p_options jsonb default '{}',
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_options jsonb := coalesce(p_options, '{}'::jsonb);
  v_request jsonb := jsonb_build_object('rpc', 'add_item', 'cart_id', p_cart_id, 'product_id', p_product_id,
    'quantity', p_quantity, 'options', p_options, 'expected_version', p_expected_version);
  v_store_id uuid;
  v_response jsonb;
  v_product pos.products;
  v_item_id uuid;
begin
  if p_cart_id is null or p_product_id is null then
    perform pos.raise('invalid_input', 'A cart and a product are required.');
  end if;
  if p_quantity is null or p_quantity not between 1 and 999 then
    perform pos.raise('invalid_input', 'Quantity is 1 to 999 per call.');
  end if;
  if jsonb_typeof(v_options) <> 'object' or octet_length(v_options::text) > 4096 then
    perform pos.raise('invalid_input', 'Options are a JSON object of at most 4 KiB.');
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  -- Everything that needs no lock happens before the cart's row lock is taken:
  -- every microsecond under it is a microsecond no other device can add.
  select * into v_product from pos.products p
   where p.id = p_product_id and p.store_id = v_store_id and p.active;
  if not found then
    perform pos.raise('not_found', 'No such product.');
  end if;

  perform pos.lock_cart_row(p_cart_id, p_expected_version);
  insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents, options)
  values (p_cart_id, p_product_id, v_product.name, p_quantity, v_product.price_cents, v_options)
  on conflict (cart_id, product_id, options)
  do update set quantity = pos.cart_items.quantity + excluded.quantity
  returning id into v_item_id;

  v_response := pos.publish_cart_change(p_cart_id, 'item_added', jsonb_build_object(
    'item_id', v_item_id, 'product_id', p_product_id, 'quantity', p_quantity, 'options', v_options));
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.add_item(uuid, uuid, integer, jsonb, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.open_cart checks the caller
-- is staff of the location's store before anything is written.
create function public.add_to_queue(
  p_location_id uuid,
  p_customer_id uuid,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request jsonb := jsonb_build_object('rpc', 'add_to_queue', 'location_id', p_location_id, 'customer_id', p_customer_id);
  v_store_id uuid;
  v_response jsonb;
  v_cart_id uuid;
  v_entry pos.queue_entries;
  v_ticket integer;
begin
  if p_location_id is null or p_customer_id is null then
    perform pos.raise('invalid_input', 'A location and a customer are required.');
  end if;
  select l.store_id into v_store_id from pos.locations l where l.id = p_location_id;
  perform pos.assert_store_access(v_store_id, 'location');
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  -- One queue change at a time per location: the ticket counter row is the lock.
  -- Then "already waiting?" and "new ticket" cannot interleave (invariant 6).
  perform 1 from pos.locations l where l.id = p_location_id for update;
  v_cart_id := pos.open_cart(p_location_id, p_customer_id, null);

  select * into v_entry from pos.queue_entries e
   where e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving');
  if found then
    if v_entry.cart_id <> v_cart_id then
      -- Its cart closed; the entry follows the customer's open cart.
      update pos.queue_entries e set cart_id = v_cart_id where e.id = v_entry.id returning * into v_entry;
      perform pos.publish_queue(p_location_id);
    end if;
  else
    update pos.locations l set last_ticket_number = l.last_ticket_number + 1
     where l.id = p_location_id
    returning l.last_ticket_number into v_ticket;
    insert into pos.queue_entries (store_id, location_id, customer_id, cart_id, ticket_number)
    values (v_store_id, p_location_id, p_customer_id, v_cart_id, v_ticket)
    returning * into v_entry;
    perform pos.publish_queue(p_location_id);
  end if;

  v_response := jsonb_build_object('entry', pos.queue_entry_json(v_entry), 'cart', pos.cart_snapshot(v_cart_id));
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.add_to_queue(uuid, uuid, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.assert_store_access checks
-- the caller is staff of the location's store before anything is written.
create function public.call_next(
  p_location_id uuid,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request jsonb := jsonb_build_object('rpc', 'call_next', 'location_id', p_location_id);
  v_store_id uuid;
  v_response jsonb;
  v_entry pos.queue_entries;
begin
  if p_location_id is null then
    perform pos.raise('invalid_input', 'A location is required.');
  end if;
  select l.store_id into v_store_id from pos.locations l where l.id = p_location_id;
  perform pos.assert_store_access(v_store_id, 'location');
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  -- Two devices calling "next" at once: each skips the entry the other holds.
  select * into v_entry from pos.queue_entries e
   where e.location_id = p_location_id and e.status = 'waiting'
   order by e.ticket_number
   limit 1
   for update skip locked;
  if found then
    update pos.queue_entries e set status = 'serving', called_at = now()
     where e.id = v_entry.id
    returning * into v_entry;
    perform pos.publish_queue(p_location_id);
    v_response := pos.queue_entry_json(v_entry);
  end if;
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, coalesce(v_response, 'null'::jsonb));
  return v_response;
end;
$$;
grant execute on function public.call_next(uuid, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.complete_checkout(
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
begin
  if p_cart_id is null or p_lock_token is null then
    perform pos.raise('invalid_input', 'A cart and a lock token are required.');
  end if;
  if p_checkout_ref is null or length(p_checkout_ref) not between 1 and 200 then
    perform pos.raise('invalid_input', 'A checkout ref is 1 to 200 characters.');
  end if;
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

  update pos.queue_entries e
     set status = 'done', finished_at = now()
   where e.location_id = v_cart.location_id and e.customer_id = v_cart.customer_id
     and e.status in ('waiting', 'serving');
  if found then
    perform pos.publish_queue(v_cart.location_id);
  end if;

  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.complete_checkout(uuid, uuid, text, bigint, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.lock_queue_entry checks the
-- caller is staff of the entry's store before anything is written.
create function public.complete_queue_entry(p_entry_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_entry pos.queue_entries;
begin
  if p_entry_id is null then
    perform pos.raise('invalid_input', 'An entry is required.');
  end if;
  v_entry := pos.lock_queue_entry(p_entry_id);
  -- done and left are final: completing again answers the entry as it is.
  if v_entry.status in ('waiting', 'serving') then
    update pos.queue_entries e
       set status = 'done', finished_at = now(), called_at = coalesce(e.called_at, now())
     where e.id = p_entry_id
    returning * into v_entry;
    perform pos.publish_queue(v_entry.location_id);
  end if;
  return pos.queue_entry_json(v_entry);
end;
$$;
grant execute on function public.complete_queue_entry(uuid) to authenticated, service_role;

-- SECURITY DEFINER: it releases locks in every store, which no client role may
-- write; pos.assert_ops_caller refuses anyone but service_role and the database's
-- own roles (pg_cron, migrations).
create function public.expire_cart_locks()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart_id uuid;
  v_count integer := 0;
begin
  perform pos.assert_ops_caller();
  -- A cart being mutated right now releases its own lock; skip it rather than wait.
  for v_cart_id in
    select c.id from pos.carts c
     where c.status = 'locked' and c.lock_expires_at <= now()
     order by c.lock_expires_at
     for update skip locked
  loop
    perform pos.release_expired_lock(v_cart_id);
    v_count := v_count + 1;
  end loop;
  return to_jsonb(v_count);
end;
$$;
grant execute on function public.expire_cart_locks() to authenticated, service_role;

-- Runs as the caller: the row policies on pos.carts decide what is visible.
create function public.get_cart(p_cart_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_snapshot jsonb;
begin
  select pos.cart_snapshot(c.id) into v_snapshot from pos.carts c where c.id = p_cart_id;
  if v_snapshot is null then
    perform pos.raise('not_found', 'No such cart.');
  end if;
  return v_snapshot;
end;
$$;
grant execute on function public.get_cart(uuid) to authenticated, service_role;

-- Runs as the caller: the row policies decide what is visible.
create function public.get_cart_history(p_cart_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if not exists (select 1 from pos.carts c where c.id = p_cart_id) then
    perform pos.raise('not_found', 'No such cart.');
  end if;
  return (
    select coalesce(jsonb_agg(jsonb_build_object(
             'version', e.version, 'kind', e.kind, 'actor_id', e.actor_id, 'at', e.at, 'data', e.data)
           order by e.version), '[]'::jsonb)
      from pos.cart_events e
     where e.cart_id = p_cart_id);
end;
$$;
grant execute on function public.get_cart_history(uuid) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant on pos.carts; pos.open_cart
-- checks the caller is staff of the location's store before anything else.
create function public.get_or_create_cart(
  p_location_id uuid,
  p_customer_id uuid default null,
  p_device_id text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cart_id uuid;
begin
  if p_location_id is null then
    perform pos.raise('invalid_input', 'A location is required.');
  end if;
  if p_customer_id is null and p_device_id is null then
    perform pos.raise('invalid_input', 'A cart needs a customer or a device.');
  end if;
  if p_device_id is not null and length(p_device_id) not between 1 and 200 then
    perform pos.raise('invalid_input', 'A device id is 1 to 200 characters.');
  end if;
  -- Two statements: a STABLE function in the same expression as the insert
  -- would read the snapshot from before it.
  v_cart_id := pos.open_cart(p_location_id, p_customer_id, p_device_id);
  return pos.cart_snapshot(v_cart_id);
end;
$$;
grant execute on function public.get_or_create_cart(uuid, uuid, text) to authenticated, service_role;

-- Runs as the caller: the row policies decide what is visible.
create function public.get_queue(p_location_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if not exists (select 1 from pos.locations l where l.id = p_location_id) then
    perform pos.raise('not_found', 'No such location.');
  end if;
  return pos.queue_snapshot(p_location_id);
end;
$$;
grant execute on function public.get_queue(uuid) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.lock_queue_entry checks the
-- caller is staff of the entry's store before anything is written.
create function public.leave_queue(p_entry_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_entry pos.queue_entries;
begin
  if p_entry_id is null then
    perform pos.raise('invalid_input', 'An entry is required.');
  end if;
  v_entry := pos.lock_queue_entry(p_entry_id);
  -- done and left are final: leaving again answers the entry as it is.
  if v_entry.status in ('waiting', 'serving') then
    update pos.queue_entries e set status = 'left', finished_at = now()
     where e.id = p_entry_id
    returning * into v_entry;
    perform pos.publish_queue(v_entry.location_id);
  end if;
  return pos.queue_entry_json(v_entry);
end;
$$;
grant execute on function public.leave_queue(uuid) to authenticated, service_role;

-- Runs as the caller: the row policies decide what is visible.
create function public.list_open_carts(p_location_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if not exists (select 1 from pos.locations l where l.id = p_location_id) then
    perform pos.raise('not_found', 'No such location.');
  end if;
  return coalesce((
    select jsonb_agg(pos.cart_snapshot(c.id) order by c.created_at, c.id)
      from pos.carts c
     where c.location_id = p_location_id and c.status in ('active', 'locked')), '[]'::jsonb);
end;
$$;
grant execute on function public.list_open_carts(uuid) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.lock_cart(
  p_cart_id uuid,
  p_checkout_ref text default null,
  p_ttl_seconds integer default 600,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ttl integer := coalesce(p_ttl_seconds, 600);
  v_request jsonb := jsonb_build_object('rpc', 'lock_cart', 'cart_id', p_cart_id, 'checkout_ref', p_checkout_ref,
    'ttl_seconds', p_ttl_seconds, 'expected_version', p_expected_version);
  v_store_id uuid;
  v_response jsonb;
  v_cart pos.carts;
begin
  if p_cart_id is null then
    perform pos.raise('invalid_input', 'A cart is required.');
  end if;
  if v_ttl not between 1 and 3600 then
    perform pos.raise('invalid_input', 'A lock lasts 1 to 3600 seconds.');
  end if;
  if length(p_checkout_ref) not between 1 and 200 then
    perform pos.raise('invalid_input', 'A checkout ref is 1 to 200 characters.');
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  v_cart := pos.lock_cart_row(p_cart_id, p_expected_version, p_checkout_ref);
  if v_cart.status = 'active' then
    if v_cart.item_count = 0 then
      perform pos.raise('cart_empty', 'An empty cart cannot be locked.');
    end if;
    update pos.carts c
       set status = 'locked',
           lock_token = gen_random_uuid(),
           lock_checkout_ref = p_checkout_ref,
           lock_expires_at = now() + make_interval(secs => v_ttl),
           locked_version = c.version + 1,
           lock_total_cents = c.subtotal_cents
     where c.id = p_cart_id
    returning * into v_cart;
    v_response := pos.publish_cart_change(p_cart_id, 'locked', jsonb_build_object(
      'checkout_ref', p_checkout_ref, 'expires_at', v_cart.lock_expires_at, 'total_cents', v_cart.lock_total_cents));
  else
    -- The same checkout asking again: the lock it already holds.
    v_response := pos.cart_snapshot(p_cart_id);
  end if;
  -- Only the caller of lock_cart ever sees the token.
  v_response := jsonb_set(v_response, '{lock,token}', to_jsonb(v_cart.lock_token));
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.lock_cart(uuid, text, integer, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: it rewrites carts in every store, which no client role may
-- write; pos.assert_ops_caller refuses anyone but service_role and the database's
-- own roles (the migration that adds the unique indexes runs it first).
create function public.merge_duplicate_carts()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_pair record;
  v_count integer := 0;
begin
  perform pos.assert_ops_caller();
  -- Every duplicate with the oldest open cart of its group, which survives.
  for v_pair in
    select d.id as from_id, d.survivor_id as into_id
      from (
        select c.id,
               first_value(c.id) over w as survivor_id,
               row_number() over w as n
          from pos.carts c
         where c.status in ('active', 'locked')
        window w as (
          partition by c.location_id, coalesce(c.customer_id::text, 'device:' || c.device_id)
          order by c.created_at, c.id)
      ) d
     where d.n > 1
     order by d.survivor_id, d.id
  loop
    -- Row locks in id order, the same order for every group.
    perform 1 from pos.carts c where c.id in (v_pair.from_id, v_pair.into_id) order by c.id for update;
    -- A cart closed since the scan began is no longer a duplicate.
    continue when (select count(*) from pos.carts c
                    where c.id in (v_pair.from_id, v_pair.into_id) and c.status in ('active', 'locked')) < 2;
    perform pos.fold_cart(v_pair.from_id, v_pair.into_id);
    v_count := v_count + 1;
  end loop;
  return to_jsonb(v_count);
end;
$$;
grant execute on function public.merge_duplicate_carts() to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.remove_item(
  p_cart_id uuid,
  p_item_id uuid,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request jsonb := jsonb_build_object('rpc', 'remove_item', 'cart_id', p_cart_id, 'item_id', p_item_id,
    'expected_version', p_expected_version);
  v_store_id uuid;
  v_response jsonb;
  v_item pos.cart_items;
begin
  if p_cart_id is null or p_item_id is null then
    perform pos.raise('invalid_input', 'A cart and an item are required.');
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  perform pos.lock_cart_row(p_cart_id, p_expected_version);
  delete from pos.cart_items i where i.id = p_item_id and i.cart_id = p_cart_id
  returning * into v_item;
  if not found then
    perform pos.raise('not_found', 'No such item in this cart.');
  end if;

  v_response := pos.publish_cart_change(p_cart_id, 'item_removed', jsonb_build_object(
    'item_id', p_item_id, 'product_id', v_item.product_id, 'quantity_before', v_item.quantity));
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.remove_item(uuid, uuid, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.set_item_quantity(
  p_cart_id uuid,
  p_item_id uuid,
  p_quantity integer,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request jsonb := jsonb_build_object('rpc', 'set_item_quantity', 'cart_id', p_cart_id, 'item_id', p_item_id,
    'quantity', p_quantity, 'expected_version', p_expected_version);
  v_store_id uuid;
  v_response jsonb;
  v_item pos.cart_items;
begin
  if p_cart_id is null or p_item_id is null then
    perform pos.raise('invalid_input', 'A cart and an item are required.');
  end if;
  if p_quantity is null or p_quantity not between 0 and 999 then
    perform pos.raise('invalid_input', 'Quantity is 0 to 999; 0 removes the line.');
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  perform pos.lock_cart_row(p_cart_id, p_expected_version);
  select * into v_item from pos.cart_items i where i.id = p_item_id and i.cart_id = p_cart_id;
  if not found then
    perform pos.raise('not_found', 'No such item in this cart.');
  end if;

  if p_quantity = 0 then
    delete from pos.cart_items i where i.id = p_item_id;
    v_response := pos.publish_cart_change(p_cart_id, 'item_removed', jsonb_build_object(
      'item_id', p_item_id, 'product_id', v_item.product_id, 'quantity_before', v_item.quantity));
  else
    update pos.cart_items i set quantity = p_quantity where i.id = p_item_id;
    v_response := pos.publish_cart_change(p_cart_id, 'item_quantity_set', jsonb_build_object(
      'item_id', p_item_id, 'product_id', v_item.product_id,
      'quantity_before', v_item.quantity, 'quantity', p_quantity));
  end if;
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.set_item_quantity(uuid, uuid, integer, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.unlock_cart(
  p_cart_id uuid,
  p_lock_token uuid,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request jsonb := jsonb_build_object('rpc', 'unlock_cart', 'cart_id', p_cart_id, 'lock_token', p_lock_token,
    'expected_version', p_expected_version);
  v_store_id uuid;
  v_response jsonb;
  v_cart pos.carts;
begin
  if p_cart_id is null or p_lock_token is null then
    perform pos.raise('invalid_input', 'A cart and a lock token are required.');
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  v_cart := pos.lock_cart_row_for_token(p_cart_id, p_lock_token, p_expected_version);
  -- The token dies with an explicit unlock: a checkout with it is now stale.
  update pos.carts c
     set status = 'active', lock_token = null, lock_checkout_ref = null, lock_expires_at = null,
         locked_version = null, lock_total_cents = null
   where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'unlocked', jsonb_build_object(
    'checkout_ref', v_cart.lock_checkout_ref, 'locked_version', v_cart.locked_version));
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.unlock_cart(uuid, uuid, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create function public.update_cart_lock(
  p_cart_id uuid,
  p_lock_token uuid,
  p_checkout_ref text,
  p_expected_version bigint default null,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request jsonb := jsonb_build_object('rpc', 'update_cart_lock', 'cart_id', p_cart_id, 'lock_token', p_lock_token,
    'checkout_ref', p_checkout_ref, 'expected_version', p_expected_version);
  v_store_id uuid;
  v_response jsonb;
  v_cart pos.carts;
begin
  if p_cart_id is null or p_lock_token is null then
    perform pos.raise('invalid_input', 'A cart and a lock token are required.');
  end if;
  if p_checkout_ref is null or length(p_checkout_ref) not between 1 and 200 then
    perform pos.raise('invalid_input', 'A checkout ref is 1 to 200 characters.');
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
  if v_response is not null then
    return v_response;
  end if;

  v_cart := pos.lock_cart_row_for_token(p_cart_id, p_lock_token, p_expected_version);
  update pos.carts c set lock_checkout_ref = p_checkout_ref where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'lock_updated', jsonb_build_object(
    'checkout_ref_before', v_cart.lock_checkout_ref, 'checkout_ref', p_checkout_ref));
  perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  return v_response;
end;
$$;
grant execute on function public.update_cart_lock(uuid, uuid, text, bigint, text) to authenticated, service_role;
