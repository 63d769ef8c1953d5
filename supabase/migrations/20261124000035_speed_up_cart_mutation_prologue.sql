-- speed up cart mutation prologue: from sql/internal/060_cart_lock_row.sql, sql/internal/080_queue.sql, sql/rpc/add_item.sql, sql/rpc/set_item_quantity.sql, sql/rpc/remove_item.sql, sql/rpc/lock_cart.sql, sql/rpc/unlock_cart.sql, sql/rpc/update_cart_lock.sql, sql/rpc/complete_checkout.sql
-- Why: Every cart mutation checked the caller's store through four nested calls and took its row lock
-- through three more; one probe and a lock prologue without nested calls in the common case cut
-- add_item's server time by about a tenth. Malformed requests are refused before any row is locked: a
-- negative expected version on a locked cart is invalid_input, not cart_locked, and another store's
-- queue entry is never locked, so it answers not_found at once instead of busy while someone holds it.
-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- Every cart mutation starts by taking the cart's row lock: that lock is what
-- serializes concurrent mutations of one cart (invariant 2). Callers have checked
-- the caller's store with pos.cart_store, before any lock is taken. A cart held
-- by another transaction is waited for at most 3 s, then `busy`
-- (sql/internal/015_bounded_waits.sql says why it is done this way).
create or replace function pos.cart_row_for_update(p_cart_id uuid)
returns pos.carts
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts;
begin
  select * into v_cart from pos.carts c where c.id = p_cart_id for update skip locked;
  if found then
    return v_cart;
  end if;
  perform pos.bound_lock_wait();
  begin
    select * into v_cart from pos.carts c where c.id = p_cart_id for update;
  exception when lock_not_available then
    perform pos.raise_busy('Another request is still changing this cart.');
  end;
  if v_cart.id is null then
    perform pos.raise('not_found', 'No such cart.');
  end if;
  return v_cart;
end;
$$;

create or replace function pos.assert_cart_open(p_cart pos.carts)
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

create or replace function pos.assert_expected_version(p_expected_version bigint, p_current_version bigint)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- Versions start at 1: a negative one is a malformed request, not a conflict.
  -- RPCs also call this with the expected version alone, first thing, so a
  -- negative one is refused before the cart is looked up or locked: the cart's
  -- state never decides how a malformed request is answered.
  if p_expected_version < 0 then
    perform pos.raise('invalid_input', 'An expected version is a whole number of at least 0.');
  end if;
  if p_expected_version is not null and p_expected_version <> p_current_version then
    perform pos.raise('version_conflict',
      format('Expected version %s, the cart is at version %s.', p_expected_version, p_current_version),
      jsonb_build_object('current_version', p_current_version));
  end if;
end;
$$;

-- Records the release of a lock whose time ran out. The token is kept: a payment
-- that succeeded meanwhile may still complete with it if no item changes.
create or replace function pos.release_expired_lock(p_cart_id uuid)
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
-- Every cart mutation runs this, so the common case (an active cart nobody else
-- holds, the version as expected or not given) is one statement and no nested
-- call: the helpers below are reached only when there is something to refuse
-- or release. Callers assign its result even when they do not use it: an
-- assignment is evaluated as an expression, without a statement's set-up.
create or replace function pos.lock_cart_row(p_cart_id uuid, p_expected_version bigint, p_own_lock_ref text default null)
returns pos.carts
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts;
  v_seen_version bigint;
begin
  select * into v_cart from pos.carts c where c.id = p_cart_id for update skip locked;
  if not found then
    v_cart := pos.cart_row_for_update(p_cart_id);
  end if;
  v_seen_version := v_cart.version;
  if v_cart.status <> 'active' then
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
  end if;
  -- No expected version, or the one the cart is at: nothing to check.
  if p_expected_version <> v_cart.version then
    perform pos.assert_expected_version(p_expected_version, v_seen_version);
  end if;
  return v_cart;
end;
$$;

-- The prologue of a change to a live lock (update or unlock): the token must be
-- the one of the lock in force.
create or replace function pos.lock_cart_row_for_token(p_cart_id uuid, p_lock_token uuid, p_expected_version bigint)
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

-- The store of a cart, after checking the caller may touch it, and, when asked,
-- the name and price of the store's active product p_product_id (null when
-- there is none). Read without a lock: a cart never changes store, and a
-- product's name and price are captured as they stand when the line is written. One statement does what
-- pos.assert_store_access does in three calls (cart, staff row, role): every
-- cart mutation pays for this before its row lock, so it is kept to one probe.
-- The rule is pos.can_access_store's, written out again here for the hot path
-- (a change to one is a change to both): staff reach their own store, roles
-- other than anon and authenticated reach every store, and another store's cart
-- answers exactly like a missing one.
create or replace function pos.cart_target(
  p_cart_id uuid,
  p_product_id uuid,
  out store_id uuid,
  out product_name text,
  out product_price_cents bigint
)
returns record
language plpgsql
stable
set search_path = ''
as $$
declare
  v_is_staff boolean;
begin
  select c.store_id, p.name, p.price_cents,
         exists (select 1 from pos.staff s where s.user_id = auth.uid() and s.store_id = c.store_id)
    into store_id, product_name, product_price_cents, v_is_staff
    from pos.carts c
    left join pos.products p on p.id = p_product_id and p.store_id = c.store_id and p.active
   where c.id = p_cart_id;
  if store_id is null or not (v_is_staff or pos.request_role() not in ('anon', 'authenticated')) then
    perform pos.raise('not_found', 'No such cart.');
  end if;
end;
$$;

create or replace function pos.cart_store(p_cart_id uuid)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
begin
  return (pos.cart_target(p_cart_id, null)).store_id;
end;
$$;

-- The contract's queue entry, in one place. `position` is 1-based among the
-- location's waiting entries, null for any other status.
create or replace function pos.queue_entry_object(p_entry pos.queue_entries, p_position bigint)
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
create or replace function pos.queue_entry_json(p_entry pos.queue_entries)
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
create or replace function pos.queue_snapshot(p_location_id uuid)
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

create or replace function pos.publish_queue(p_location_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform realtime.send(pos.queue_snapshot(p_location_id), 'queue_updated', 'queue:' || p_location_id::text, true);
end;
$$;

-- Locks a queue entry for a status change, after checking the caller's store.
-- Held by another transaction: waited for at most 3 s, then `busy`. The store
-- is checked first, from a read without a lock (an entry never changes store):
-- another store's entry is never locked, and never answers `busy`, which would
-- tell that it exists.
create or replace function pos.lock_queue_entry(p_entry_id uuid)
returns pos.queue_entries
language plpgsql
set search_path = ''
as $$
declare
  v_entry pos.queue_entries;
begin
  perform pos.assert_store_access((select e.store_id from pos.queue_entries e where e.id = p_entry_id),
    'queue entry');
  select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update skip locked;
  if not found then
    perform pos.bound_lock_wait();
    begin
      select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update;
    exception when lock_not_available then
      perform pos.raise_busy('Another request is still changing this queue entry.');
    end;
  end if;
  return v_entry;
end;
$$;

-- One queue change at a time per location: the location's row (it holds the
-- ticket counter) is the queue's lock. Held: waited for at most 3 s, then `busy`.
create or replace function pos.lock_queue(p_location_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform 1 from pos.locations l where l.id = p_location_id for update skip locked;
  if found then
    return;
  end if;
  perform pos.bound_lock_wait();
  begin
    perform 1 from pos.locations l where l.id = p_location_id for update;
  exception when lock_not_available then
    perform pos.raise_busy('Another request is still changing this queue.');
  end;
end;
$$;

-- Locks the queue entries a cart change is about to mark or repoint: the live
-- entries of a customer at a location, and every entry of a cart. A queue
-- change in flight may hold one; it is waited for at most 3 s, then `busy`
-- (015_bounded_waits.sql), so the UPDATE that follows never waits. Without
-- contention this is two index reads and no subtransaction.
create or replace function pos.lock_queue_entries_of(p_location_id uuid, p_customer_id uuid, p_cart_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_all bigint;
  v_taken bigint;
begin
  select count(*) into v_all from pos.queue_entries e
   where e.cart_id = p_cart_id
      or (e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving'));
  if v_all = 0 then
    return;
  end if;
  select count(*) into v_taken from (
    select 1 from pos.queue_entries e
     where e.cart_id = p_cart_id
        or (e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving'))
       for update skip locked) taken;
  if v_taken = v_all then
    return;
  end if;
  perform pos.bound_lock_wait();
  begin
    perform 1 from pos.queue_entries e
     where e.cart_id = p_cart_id
        or (e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving'))
       for update;
  exception when lock_not_available then
    perform pos.raise_busy('Another request is still changing this customer''s queue entry.');
  end;
end;
$$;

-- SECURITY DEFINER: clients have no write grant; pos.cart_target checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.add_item(
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
  v_options jsonb := '{}';
  v_request jsonb;
  v_target record;
  v_response jsonb;
  v_cart pos.carts;
  v_item_id uuid;
  v_quantity integer;
  v_new_line boolean;
begin
  if p_cart_id is null or p_product_id is null then
    perform pos.raise('invalid_input', 'A cart and a product are required.');
  end if;
  if p_quantity is null or p_quantity not between 1 and 999 then
    perform pos.raise('invalid_input', 'Quantity is 1 to 999 per call.');
  end if;
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
  end if;
  -- Most lines have no options: nothing to check for them.
  if p_options is distinct from '{}'::jsonb then
    v_options := pos.checked_options(p_options);
  end if;

  -- The cart's store, the caller's access and the product in one probe.
  v_target := pos.cart_target(p_cart_id, p_product_id);
  -- Without a key there is nothing to replay or record: the request is built,
  -- and the key table touched, only for a key.
  if p_idempotency_key is not null then
    v_request := jsonb_build_object('rpc', 'add_item', 'cart_id', p_cart_id, 'product_id', p_product_id,
      'quantity', p_quantity, 'options', p_options, 'expected_version', p_expected_version);
    v_response := pos.idempotency_replay(v_target.store_id, p_idempotency_key, v_request);
    if v_response is not null then
      return v_response;
    end if;
  end if;
  if v_target.product_name is null then
    perform pos.raise('not_found', 'No such product.');
  end if;

  -- Everything above needs no lock and runs before the cart's row lock is
  -- taken: every microsecond under it is a microsecond no other device can add.
  v_cart := pos.lock_cart_row(p_cart_id, p_expected_version);
  -- A tap usually adds to a line that is already there: an update writes it once,
  -- where insert … on conflict would first try the insert (the generated key, the
  -- checks, the speculative index entry) and then update. Under the cart's row
  -- lock no other request can add or remove a line of this cart in between.
  update pos.cart_items i set quantity = i.quantity + p_quantity
   where i.cart_id = p_cart_id and i.product_id = p_product_id
     and i.options_key = md5(v_options::text)::uuid and i.options = v_options
  returning i.id, i.quantity into v_item_id, v_quantity;
  v_new_line := not found;
  if v_new_line then
    insert into pos.cart_items (cart_id, product_id, name, quantity, unit_price_cents, options)
    values (p_cart_id, p_product_id, v_target.product_name, p_quantity, v_target.product_price_cents, v_options)
    on conflict (cart_id, product_id, options_key) do nothing
    returning id, quantity into v_item_id, v_quantity;
    if v_item_id is null then
      -- A line with other options under the same hash: never merge them.
      perform pos.raise('invalid_input',
        'These options cannot be told apart from another line''s; change them slightly.');
    end if;
  end if;
  -- Checked after the write, which the raise rolls back: the line's quantity is
  -- known only once the row is locked, and the count matters only for a new line.
  if v_quantity > 9999 then
    perform pos.raise('limit_exceeded', format('A line holds at most 9,999 units; this add would make it %s.',
      v_quantity), jsonb_build_object('max_quantity', 9999, 'quantity', v_quantity - p_quantity));
  end if;
  if v_new_line and (select count(*) from pos.cart_items i where i.cart_id = p_cart_id) > 200 then
    perform pos.raise('limit_exceeded', 'A cart holds at most 200 lines.', jsonb_build_object('max_lines', 200));
  end if;

  v_response := pos.publish_cart_change(p_cart_id, 'item_added', jsonb_build_object(
    'item_id', v_item_id, 'product_id', p_product_id, 'quantity', p_quantity, 'options', v_options));
  if p_idempotency_key is not null then
    perform pos.idempotency_save(v_target.store_id, p_idempotency_key, v_request, v_response);
  end if;
  return v_response;
end;
$$;
grant execute on function public.add_item(uuid, uuid, integer, jsonb, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.set_item_quantity(
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
  v_request jsonb;
  v_cart pos.carts;
  v_store_id uuid;
  v_response jsonb;
  v_item pos.cart_items;
begin
  if p_cart_id is null or p_item_id is null then
    perform pos.raise('invalid_input', 'A cart and an item are required.');
  end if;
  if p_quantity is null or p_quantity < 0 then
    perform pos.raise('invalid_input', 'Quantity is 0 to 9,999; 0 removes the line.');
  end if;
  if p_quantity > 9999 then
    perform pos.raise('limit_exceeded', 'A line holds at most 9,999 units.', jsonb_build_object('max_quantity', 9999));
  end if;
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  if p_idempotency_key is not null then
    v_request := jsonb_build_object('rpc', 'set_item_quantity', 'cart_id', p_cart_id, 'item_id', p_item_id,
      'quantity', p_quantity, 'expected_version', p_expected_version);
    v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
    if v_response is not null then
      return v_response;
    end if;
  end if;

  v_cart := pos.lock_cart_row(p_cart_id, p_expected_version);
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
  if p_idempotency_key is not null then
    perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  end if;
  return v_response;
end;
$$;
grant execute on function public.set_item_quantity(uuid, uuid, integer, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.remove_item(
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
  v_request jsonb;
  v_cart pos.carts;
  v_store_id uuid;
  v_response jsonb;
  v_item pos.cart_items;
begin
  if p_cart_id is null or p_item_id is null then
    perform pos.raise('invalid_input', 'A cart and an item are required.');
  end if;
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
  end if;

  v_store_id := pos.cart_store(p_cart_id);
  if p_idempotency_key is not null then
    v_request := jsonb_build_object('rpc', 'remove_item', 'cart_id', p_cart_id, 'item_id', p_item_id,
      'expected_version', p_expected_version);
    v_response := pos.idempotency_replay(v_store_id, p_idempotency_key, v_request);
    if v_response is not null then
      return v_response;
    end if;
  end if;

  v_cart := pos.lock_cart_row(p_cart_id, p_expected_version);
  delete from pos.cart_items i where i.id = p_item_id and i.cart_id = p_cart_id
  returning * into v_item;
  if not found then
    perform pos.raise('not_found', 'No such item in this cart.');
  end if;

  v_response := pos.publish_cart_change(p_cart_id, 'item_removed', jsonb_build_object(
    'item_id', p_item_id, 'product_id', v_item.product_id, 'quantity_before', v_item.quantity));
  if p_idempotency_key is not null then
    perform pos.idempotency_save(v_store_id, p_idempotency_key, v_request, v_response);
  end if;
  return v_response;
end;
$$;
grant execute on function public.remove_item(uuid, uuid, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.lock_cart(
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
  perform pos.assert_name_text(p_checkout_ref, 'A checkout ref', 200);
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
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

-- SECURITY DEFINER: clients have no write grant; pos.cart_store checks the caller
-- is staff of the cart's store before anything is read or written.
create or replace function public.unlock_cart(
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
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
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
create or replace function public.update_cart_lock(
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
  if p_checkout_ref is null then
    perform pos.raise('invalid_input', 'A checkout ref is required.');
  end if;
  perform pos.assert_name_text(p_checkout_ref, 'A checkout ref', 200);
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
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
  if p_expected_version < 0 then
    perform pos.assert_expected_version(p_expected_version, null);
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

  perform pos.lock_queue_entries_of(v_cart.location_id, v_cart.customer_id, null);
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

alter default privileges grant execute on functions to public;
