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
create function pos.bound_lock_wait()
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
create function pos.raise_busy(p_what text)
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
create function pos.advisory_xact_lock_or_busy(p_key bigint, p_what text)
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
