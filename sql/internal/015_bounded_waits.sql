-- Contract v1.1: no request waits unboundedly for a cart or queue that another
-- operation holds. Every lock helper first asks for its lock without waiting:
-- uncontended, which is nearly always, that costs nothing extra. Only when the
-- lock is held does it wait, at most 3 s, inside a block of its own (that block
-- is a subtransaction, so it stays off the uncontended path), and a wait that
-- runs out becomes `busy` (PT503). PostgREST answers PT503 as 503 itself, so
-- supabase.rpc() on a project gets the same `busy` as the functions, whatever
-- lock_timeout its role has.

-- Lowers this transaction's lock_timeout to 3 s unless it is already shorter.
-- Hosted PostgREST runs `authenticated` with 8 s and a direct session may have
-- none; the functions set 3 s or less themselves.
create function pos.bound_lock_wait()
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_current text := current_setting('lock_timeout');
begin
  if v_current = '0' or v_current::interval > interval '3 seconds' then
    perform set_config('lock_timeout', '3s', true);
  end if;
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
