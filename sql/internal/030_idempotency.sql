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
create function pos.keyed_request_by_name(p_rpc text, p_arguments jsonb)
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
create function pos.keyed_open(p_rpc text, p_store_id uuid, p_key text, p_arguments jsonb)
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
create function pos.keyed_close(p_mutation pos.keyed_mutation, p_response jsonb)
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
