-- update idempotency helpers: from sql/internal/030_idempotency.sql
-- Why: Two changes landed together: the bounded wait on an idempotency key's advisory lock (busy past
-- 3 s) and the ops counters' replay recording; this migration carries both.
-- onecart's functions are callable only where granted; Postgres's default for others is kept.
alter default privileges revoke execute on functions from public;

-- Invariant 7. The advisory lock makes two concurrent requests with one key
-- queue behind each other: the second sees the first's stored response. It is
-- always taken before the cart row lock, so the two cannot deadlock.
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
  -- ops.store_health counts replays; the advisory lock above already serializes
  -- every request with this key, so this row is never contended.
  update pos.idempotency_keys k set replays = k.replays + 1, last_replayed_at = now()
   where k.store_id = p_store_id and k.key = p_key;
  return v_stored.response;
end;
$$;

create or replace function pos.idempotency_save(p_store_id uuid, p_key text, p_request jsonb, p_response jsonb)
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

alter default privileges grant execute on functions to public;
