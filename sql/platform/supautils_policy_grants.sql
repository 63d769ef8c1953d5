-- On a project, supautils' policy_grants ('{"postgres": [..., "realtime.messages", ...]}')
-- lets `postgres` create, alter and drop policies on realtime.messages, which it
-- does not own and, since Realtime's restrict_realtime_schema (2026-07), is no
-- member of the owner of. Plain Postgres wants the owner for those statements,
-- so locally, for the one statement a policy command is, `postgres` is a member
-- of supabase_realtime_admin (for ownership checks only, never SET ROLE), and is
-- not any more when it ends; a policy on any other table the realtime owner owns
-- (a daily partition, say) is refused as supautils refuses it.
create schema if not exists supautils_local;
revoke all on schema supautils_local from public;

create or replace function supautils_local.policy_command_start() returns event_trigger
language plpgsql
-- SECURITY DEFINER: only the superuser that owns it may grant the membership.
security definer
set search_path = ''
as $$
begin
  -- Whoever runs the command: inside this function the user is its owner, and
  -- a migration may run as postgres under another session user (SET ROLE).
  grant supabase_realtime_admin to postgres with inherit true, set false;
end $$;

create or replace function supautils_local.policy_command_end() returns event_trigger
language plpgsql
-- SECURITY DEFINER: only the superuser that owns it may revoke the membership.
security definer
set search_path = ''
as $$
declare
  command record;
begin
  if not pg_has_role('postgres', 'supabase_realtime_admin', 'member') then
    return;
  end if;
  revoke supabase_realtime_admin from postgres;
  for command in select * from pg_event_trigger_ddl_commands() where object_type = 'policy' loop
    if exists (
      select from pg_policy p join pg_class c on c.oid = p.polrelid
       where p.oid = command.objid
         and c.relowner = 'supabase_realtime_admin'::regrole
         and c.oid <> 'realtime.messages'::regclass
    ) then
      raise exception 'must be owner of table %', (select polrelid::regclass from pg_policy where oid = command.objid)
        using errcode = '42501';
    end if;
  end loop;
end $$;

-- A dropped policy is gone by ddl_command_end, and pg_event_trigger_ddl_commands()
-- lists no drops: its table is checked here, while the policy is being dropped.
create or replace function supautils_local.policy_drop_check() returns event_trigger
language plpgsql
set search_path = ''
as $$
declare
  dropped record;
begin
  for dropped in select * from pg_event_trigger_dropped_objects() where object_type = 'policy' loop
    if exists (
      select from pg_class c
       where c.oid = to_regclass(format('%I.%I', dropped.address_names[1], dropped.address_names[2]))
         and c.relowner = 'supabase_realtime_admin'::regrole
         and c.oid <> 'realtime.messages'::regclass
    ) then
      raise exception 'must be owner of table %', format('%I.%I', dropped.address_names[1], dropped.address_names[2])
        using errcode = '42501';
    end if;
  end loop;
end $$;

revoke all on function supautils_local.policy_command_start() from public;
revoke all on function supautils_local.policy_command_end() from public;
revoke all on function supautils_local.policy_drop_check() from public;

drop event trigger if exists supautils_local_policy_grants_start;
create event trigger supautils_local_policy_grants_start on ddl_command_start
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
  execute function supautils_local.policy_command_start();
drop event trigger if exists supautils_local_policy_grants_end;
create event trigger supautils_local_policy_grants_end on ddl_command_end
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
  execute function supautils_local.policy_command_end();
drop event trigger if exists supautils_local_policy_grants_drop;
create event trigger supautils_local_policy_grants_drop on sql_drop
  when tag in ('DROP POLICY')
  execute function supautils_local.policy_drop_check();
