-- A line's options are what a POS prints on it ("size": "L", "note": "no foam"):
-- a JSON object of at most 1 KiB (as onecart stores and returns it) nested at
-- most 4 levels deep. They are refused, never altered, when a device could not
-- read them back as sent: a number a JSON client cannot hold exactly (more than
-- 15 significant digits, or a magnitude past 1e300 or below 1e-300) or a U+FFFD,
-- which is what a lone surrogate or a broken byte becomes on the way in.
-- Equal numbers are stored one way (1.0 and 1.00 as 1, as every JSON client
-- reads them), so two adds of the same options land on the same line whatever
-- notation each device used. Returns the options as they are stored.
create function pos.checked_options(p_options jsonb)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_number numeric;
  v_digits text;
  v_has_numbers boolean := false;
begin
  if p_options is null then
    return '{}'::jsonb;
  end if;
  if jsonb_typeof(p_options) <> 'object' then
    perform pos.raise('invalid_input', 'Options are a JSON object.');
  end if;
  if p_options = '{}'::jsonb then
    return p_options;
  end if;
  if octet_length(p_options::text) > 1024 then
    perform pos.raise('invalid_input', 'Options are at most 1 KiB of JSON.', jsonb_build_object('max_bytes', 1024));
  end if;
  -- Level 0 is the options object itself: a container at level 4 is a fifth level.
  if p_options @? 'strict $.**{4 to last} ? (@.type() == "object" || @.type() == "array")' then
    perform pos.raise('invalid_input', 'Options nest at most 4 levels deep.', jsonb_build_object('max_depth', 4));
  end if;
  if strpos(p_options::text, U&'\FFFD') > 0 then
    perform pos.raise('invalid_input',
      'Options hold a character that did not arrive intact (a lone surrogate or a broken byte).');
  end if;
  for v_number in
    select (n #>> '{}')::numeric from jsonb_path_query(p_options, 'strict $.** ? (@.type() == "number")') n
  loop
    v_has_numbers := true;
    v_digits := trim(both '0' from replace(trim_scale(abs(v_number))::text, '.', ''));
    if length(v_digits) > 15 or abs(v_number) >= 1e300 or (v_number <> 0 and abs(v_number) < 1e-300) then
      perform pos.raise('invalid_input',
        'Numbers in options have at most 15 significant digits and a magnitude between 1e-300 and 1e300.');
    end if;
  end loop;
  if v_has_numbers then
    return pos.canonical_json(p_options);
  end if;
  return p_options;
end;
$$;

-- Numbers without trailing zeros of scale, everything else as it is. Recursive,
-- so only for values whose depth is already bounded.
create function pos.canonical_json(p_value jsonb)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
  case jsonb_typeof(p_value)
    when 'object' then
      return coalesce((select jsonb_object_agg(e.key, pos.canonical_json(e.value)) from jsonb_each(p_value) e),
        '{}'::jsonb);
    when 'array' then
      return coalesce((select jsonb_agg(pos.canonical_json(e.value) order by e.ordinality)
                         from jsonb_array_elements(p_value) with ordinality e), '[]'::jsonb);
    when 'number' then
      return to_jsonb(trim_scale(p_value::numeric));
    else
      return p_value;
  end case;
end;
$$;

-- Text a client names something with (a device id, a checkout ref): 1 to
-- p_max_length characters, and no U+FFFD (see above).
create function pos.assert_name_text(p_value text, p_what text, p_max_length integer)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_value is null then
    return;
  end if;
  if length(p_value) not between 1 and p_max_length then
    perform pos.raise('invalid_input', format('%s is 1 to %s characters.', p_what, p_max_length),
      jsonb_build_object('max_length', p_max_length));
  end if;
  if strpos(p_value, U&'\FFFD') > 0 then
    perform pos.raise('invalid_input', format('%s holds a character that did not arrive intact.', p_what));
  end if;
end;
$$;
