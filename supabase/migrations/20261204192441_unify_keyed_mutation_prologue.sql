-- unify keyed mutation prologue: from sql/internal/030_idempotency.sql, sql/rpc/add_item.sql, sql/rpc/set_item_quantity.sql, sql/rpc/remove_item.sql, sql/rpc/lock_cart.sql, sql/rpc/update_cart_lock.sql, sql/rpc/unlock_cart.sql, sql/rpc/complete_checkout.sql, sql/rpc/add_to_queue.sql, sql/rpc/call_next.sql
-- Why: The idempotency prologue was written in every keyed RPC in two styles, each building its
-- request object by hand, so an argument left out of one would let a key replay a different request's
-- answer instead of idempotency_key_reused. One pair, pos.keyed_open and pos.keyed_close, now takes
-- every argument as one list in declaration order, and a test reads each RPC's arguments from the
-- catalog; requests stored before this migration, which named each argument, still replay.
-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- Invariant 7. Every keyed RPC opens its mutation with pos.keyed_open and ends
-- it with pos.keyed_close; nothing else reads or writes pos.idempotency_keys on
-- the request path.
--
-- The request a key is bound to is the RPC's name and every argument but the
-- key, passed as one array in declaration order: one list to write, in one
-- place, with nothing to name. An argument left out would let one key replay
-- the answer of a different request instead of `idempotency_key_reused`;
-- tests/db/keyed-requests.test.ts reads each keyed RPC's arguments from the
-- catalog and changes each in turn under one key, so it fails for the RPC and
-- the argument left out. (The names are not looked up at run time: a catalog
-- query on every keyed call cost about a tenth of add_item.)
create type pos.keyed_mutation as (
  store_id uuid,
  key text,
  request jsonb,
  -- The first response, when this is a retry: the RPC returns it and stops.
  replay jsonb
);

-- Requests stored before the migration unify_keyed_mutation_prologue named each
-- argument, `{"rpc", "cart_id", …}`: a retry of one of those still replays. Keys
-- live a week, so a week after that migration this function and its call can go.
create or replace function pos.keyed_request_by_name(p_rpc text, p_arguments jsonb)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object('rpc', p_rpc)
         || coalesce(jsonb_object_agg(substr(a.name, 3), p_arguments -> (a.n::integer - 1)), '{}')
    from pg_catalog.pg_proc p, unnest(p.proargnames) with ordinality as a(name, n)
   where p.oid = ('public.' || p_rpc)::regproc and a.name <> 'p_idempotency_key';
$$;

-- The advisory lock makes two concurrent requests with one key queue behind
-- each other: the second sees the first's stored response. It is always taken
-- before the cart row lock, so the two cannot deadlock. Without a key there is
-- nothing to replay or record: the table is not read.
create or replace function pos.keyed_open(p_rpc text, p_store_id uuid, p_key text, p_arguments jsonb)
returns pos.keyed_mutation
language plpgsql
set search_path = ''
as $$
declare
  v_request jsonb;
  v_stored pos.idempotency_keys;
begin
  if p_key is null then
    return null;
  end if;
  if length(p_key) not between 1 and 255 then
    perform pos.raise('invalid_input', 'An idempotency key is 1 to 255 characters.');
  end if;
  v_request := jsonb_build_object('rpc', p_rpc, 'args', p_arguments);

  perform pos.advisory_xact_lock_or_busy(hashtextextended(p_store_id::text || '/' || p_key, 7),
    'A request with this idempotency key is still running.');
  select * into v_stored from pos.idempotency_keys k where k.store_id = p_store_id and k.key = p_key;
  if found then
    if v_stored.request <> v_request
       and (v_stored.request ? 'args' or v_stored.request <> pos.keyed_request_by_name(p_rpc, p_arguments)) then
      perform pos.raise('idempotency_key_reused',
        'This idempotency key was already used for a different request.',
        jsonb_build_object('first_request', v_stored.request -> 'rpc'));
    end if;
    -- ops.store_health counts replays; the advisory lock above already serializes
    -- every request with this key, so this row is never contended.
    update pos.idempotency_keys k set replays = k.replays + 1, last_replayed_at = now()
     where k.store_id = p_store_id and k.key = p_key;
  end if;
  return row(p_store_id, p_key, v_request, v_stored.response)::pos.keyed_mutation;
end;
$$;

-- Records the response under the key pos.keyed_open checked, and returns it.
-- call_next answers null when no one waits; that answer is stored as JSON null,
-- so a retry replays it too.
create or replace function pos.keyed_close(p_mutation pos.keyed_mutation, p_response jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  if p_mutation.key is not null then
    insert into pos.idempotency_keys (store_id, key, request, response)
    values (p_mutation.store_id, p_mutation.key, p_mutation.request, coalesce(p_response, 'null'::jsonb));
  end if;
  return p_response;
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
  v_keyed pos.keyed_mutation;
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
  v_keyed := pos.keyed_open('add_item', v_target.store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_product_id, p_quantity, p_options, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
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
  return pos.keyed_close(v_keyed, v_response);
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
  v_keyed pos.keyed_mutation;
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
  v_keyed := pos.keyed_open('set_item_quantity', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_item_id, p_quantity, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
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
  return pos.keyed_close(v_keyed, v_response);
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
  v_keyed pos.keyed_mutation;
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
  v_keyed := pos.keyed_open('remove_item', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_item_id, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  v_cart := pos.lock_cart_row(p_cart_id, p_expected_version);
  delete from pos.cart_items i where i.id = p_item_id and i.cart_id = p_cart_id
  returning * into v_item;
  if not found then
    perform pos.raise('not_found', 'No such item in this cart.');
  end if;

  v_response := pos.publish_cart_change(p_cart_id, 'item_removed', jsonb_build_object(
    'item_id', p_item_id, 'product_id', v_item.product_id, 'quantity_before', v_item.quantity));
  return pos.keyed_close(v_keyed, v_response);
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
  v_keyed pos.keyed_mutation;
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
  v_keyed := pos.keyed_open('lock_cart', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_checkout_ref, p_ttl_seconds, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
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
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.lock_cart(uuid, text, integer, bigint, text) to authenticated, service_role;

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
  v_keyed pos.keyed_mutation;
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
  v_keyed := pos.keyed_open('update_cart_lock', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_lock_token, p_checkout_ref, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  v_cart := pos.lock_cart_row_for_token(p_cart_id, p_lock_token, p_expected_version);
  update pos.carts c set lock_checkout_ref = p_checkout_ref where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'lock_updated', jsonb_build_object(
    'checkout_ref_before', v_cart.lock_checkout_ref, 'checkout_ref', p_checkout_ref));
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.update_cart_lock(uuid, uuid, text, bigint, text) to authenticated, service_role;

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
  v_keyed pos.keyed_mutation;
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
  v_keyed := pos.keyed_open('unlock_cart', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_lock_token, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  v_cart := pos.lock_cart_row_for_token(p_cart_id, p_lock_token, p_expected_version);
  -- The token dies with an explicit unlock: a checkout with it is now stale.
  update pos.carts c
     set status = 'active', lock_token = null, lock_checkout_ref = null, lock_expires_at = null,
         locked_version = null, lock_total_cents = null
   where c.id = p_cart_id;
  v_response := pos.publish_cart_change(p_cart_id, 'unlocked', jsonb_build_object(
    'checkout_ref', v_cart.lock_checkout_ref, 'locked_version', v_cart.locked_version));
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.unlock_cart(uuid, uuid, bigint, text) to authenticated, service_role;

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
  v_keyed pos.keyed_mutation;
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
  v_keyed := pos.keyed_open('complete_checkout', v_store_id, p_idempotency_key,
    jsonb_build_array(p_cart_id, p_lock_token, p_checkout_ref, p_paid_total_cents, p_expected_version));
  if v_keyed.replay is not null then
    return v_keyed.replay;
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

  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.complete_checkout(uuid, uuid, text, bigint, bigint, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.open_cart checks the caller
-- is staff of the location's store before anything is written.
create or replace function public.add_to_queue(
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
  v_keyed pos.keyed_mutation;
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
  v_keyed := pos.keyed_open('add_to_queue', v_store_id, p_idempotency_key,
    jsonb_build_array(p_location_id, p_customer_id));
  if v_keyed.replay is not null then
    return v_keyed.replay;
  end if;

  -- One queue change at a time per location: the ticket counter row is the lock.
  -- Then "already waiting?" and "new ticket" cannot interleave (invariant 6).
  perform pos.lock_queue(p_location_id);
  v_cart_id := pos.open_cart(p_location_id, p_customer_id, null);

  select * into v_entry from pos.queue_entries e
   where e.location_id = p_location_id and e.customer_id = p_customer_id and e.status in ('waiting', 'serving');
  if found then
    if v_entry.cart_id <> v_cart_id then
      -- Its cart closed; the entry follows the customer's open cart.
      perform pos.lock_queue_entry(v_entry.id);
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
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.add_to_queue(uuid, uuid, text) to authenticated, service_role;

-- SECURITY DEFINER: clients have no write grant; pos.assert_store_access checks
-- the caller is staff of the location's store before anything is written.
create or replace function public.call_next(
  p_location_id uuid,
  p_idempotency_key text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_keyed pos.keyed_mutation;
  v_store_id uuid;
  v_response jsonb;
  v_entry pos.queue_entries;
begin
  if p_location_id is null then
    perform pos.raise('invalid_input', 'A location is required.');
  end if;
  select l.store_id into v_store_id from pos.locations l where l.id = p_location_id;
  perform pos.assert_store_access(v_store_id, 'location');
  v_keyed := pos.keyed_open('call_next', v_store_id, p_idempotency_key,
    jsonb_build_array(p_location_id));
  if v_keyed.replay is not null then
    return v_keyed.replay;
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
  return pos.keyed_close(v_keyed, v_response);
end;
$$;
grant execute on function public.call_next(uuid, text) to authenticated, service_role;

-- No RPC calls the old pair any more.
drop function pos.idempotency_replay(uuid, text, jsonb);
drop function pos.idempotency_save(uuid, text, jsonb, jsonb);

alter default privileges grant execute on functions to public;
