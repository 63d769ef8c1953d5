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
