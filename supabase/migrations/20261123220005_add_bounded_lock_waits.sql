-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- add bounded lock waits: contract v1.1's `busy` and `unavailable` codes, and
-- the cart and queue lock helpers that wait at most 3 s before answering `busy`.
-- Why: a transaction holding a cart for 30 s made every add on it wait 30 s, on
-- PostgREST as through the functions; v1.1 promises no request waits unboundedly.
-- From sql/schema/030_errors.sql (the two new rows), sql/internal/015_bounded_waits.sql,
-- sql/internal/030_idempotency.sql (pos.idempotency_replay), sql/internal/060_cart_lock_row.sql
-- (pos.cart_row_for_update), sql/internal/080_queue.sql (pos.lock_queue_entry, pos.lock_queue),
-- sql/rpc/add_to_queue.sql.
insert into pos.errors (code, http_status, description) values
  ('busy',                   503, 'the cart or queue stayed held by another operation past the wait limit (at most 3 s); nothing was changed'),
  ('unavailable',            503, 'the database could not be reached or the connection was lost');

-- Contract v1.1: no request waits unboundedly for a cart or queue that another
-- operation holds. Every lock helper first asks for its lock without waiting:
-- uncontended, which is nearly always, that costs nothing extra. Only when the
-- lock is held does it wait, at most 3 s, inside a block of its own (that block
-- is a subtransaction, so it stays off the uncontended path), and a wait that
-- runs out becomes `busy` (PT503). PostgREST answers PT503 as 503 itself, so
-- supabase.rpc() on a project gets the same `busy` as the functions, whatever
-- lock_timeout its role has.

-- Sets lock_timeout to what is left of this statement's lock-wait budget, so
-- that however many locks one RPC waits for, it waits at most 3 s in all. The
-- budget starts at the first wait: 3 s from the start of the statement, or the
-- caller's own lock_timeout if that is shorter (the functions pass what is left
-- of the request's 3 s; hosted PostgREST runs `authenticated` with 8 s; a direct
-- session may have none). The deadline is kept in a transaction-local setting,
-- keyed by the statement's start so that the next statement gets its own.
create or replace function pos.bound_lock_wait()
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_statement text := (extract(epoch from statement_timestamp()) * 1000000)::bigint::text;
  v_now_ms bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  v_kept text[] := string_to_array(current_setting('onecart.lock_wait_deadline', true), '/');
  v_caller text;
  v_left_ms bigint;
begin
  if v_kept[1] is distinct from v_statement then
    v_left_ms := 3000 - (extract(epoch from clock_timestamp() - statement_timestamp()) * 1000)::bigint;
    v_caller := current_setting('lock_timeout');
    if v_caller <> '0' then
      v_left_ms := least(v_left_ms, (extract(epoch from v_caller::interval) * 1000)::bigint);
    end if;
    perform set_config('onecart.lock_wait_deadline', v_statement || '/' || (v_now_ms + v_left_ms)::text, true);
  else
    v_left_ms := v_kept[2]::bigint - v_now_ms;
  end if;
  -- 0 would mean no limit; 1 ms gives up at once, which the caller answers `busy`.
  perform set_config('lock_timeout', greatest(v_left_ms, 1)::text || 'ms', true);
end;
$$;

-- p_what says what was held, as a sentence of its own.
create or replace function pos.raise_busy(p_what text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  perform pos.raise('busy', p_what || ' Nothing was changed; try again in a moment.',
    jsonb_build_object('retry_after', 1));
end;
$$;

-- A transaction-level advisory lock, waited for at most 3 s.
create or replace function pos.advisory_xact_lock_or_busy(p_key bigint, p_what text)
returns void
language plpgsql
set search_path = ''
as $$
begin
  if pg_try_advisory_xact_lock(p_key) then
    return;
  end if;
  perform pos.bound_lock_wait();
  begin
    perform pg_advisory_xact_lock(p_key);
  exception when lock_not_available then
    perform pos.raise_busy(p_what);
  end;
end;
$$;

create or replace function pos.idempotency_replay(p_store_id uuid, p_key text, p_request jsonb)
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
  perform pos.advisory_xact_lock_or_busy(hashtextextended(p_store_id::text || '/' || p_key, 7),
    'A request with this idempotency key is still running.');
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

create or replace function pos.lock_queue_entry(p_entry_id uuid)
returns pos.queue_entries
language plpgsql
set search_path = ''
as $$
declare
  v_entry pos.queue_entries;
begin
  select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update skip locked;
  if not found then
    perform pos.bound_lock_wait();
    begin
      select * into v_entry from pos.queue_entries e where e.id = p_entry_id for update;
    exception when lock_not_available then
      perform pos.raise_busy('Another request is still changing this queue entry.');
    end;
  end if;
  perform pos.assert_store_access(v_entry.store_id, 'queue entry');
  return v_entry;
end;
$$;

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
  perform pos.lock_queue(p_location_id);
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

alter default privileges grant execute on functions to public;
