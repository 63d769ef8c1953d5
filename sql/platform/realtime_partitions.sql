-- The daily partitions of realtime.messages that Supabase Realtime keeps: from
-- yesterday to three days ahead, created when a tenant connects and again by its
-- janitor (create_messages_partitions in supabase/realtime lib/realtime/tenants.ex).
-- Without today's partition realtime.send only warns and nothing is broadcast,
-- so the local stack re-runs this file while it runs. Dates are UTC, as a
-- project's are.
do $$
declare
  day date;
  partition_name text;
begin
  for day in
    select d::date from generate_series((now() at time zone 'utc')::date - 1,
                                        (now() at time zone 'utc')::date + 3, interval '1 day') d
  loop
    partition_name := 'messages_' || to_char(day, 'YYYY_MM_DD');
    if to_regclass(format('realtime.%I', partition_name)) is null then
      execute format('create table realtime.%I partition of realtime.messages for values from (%L) to (%L)',
                     partition_name, day, day + 1);
      execute format('alter table realtime.%I owner to supabase_realtime_admin', partition_name);
    end if;
  end loop;
end $$;
