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
