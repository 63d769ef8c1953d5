-- Local only, applied by the local stack after supabase/seed.sql: the fixture's
-- staff sign in with the password `onecart-local` (contract v1.1, "Local stack
-- and seed"). Never in supabase/seed.sql, so no project ever gets a known
-- password. bcrypt through pgcrypto: the same $2a$ hashes GoTrue writes and reads.
insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
select u.id, 'authenticated', 'authenticated', u.email,
       extensions.crypt('onecart-local', extensions.gen_salt('bf', 10)), now(),
       '{"provider": "email", "providers": ["email"]}', '{}', now(), now()
  from (values
    ('ea000000-0000-4000-8000-000000000001'::uuid, 'ana@blowing-rock.example'),
    ('ea000000-0000-4000-8000-000000000002'::uuid, 'ben@blowing-rock.example'),
    ('eb000000-0000-4000-8000-000000000001'::uuid, 'cruz@valle-crucis.example')
  ) as u (id, email)
on conflict (id) do update
  set email = excluded.email,
      encrypted_password = excluded.encrypted_password,
      email_confirmed_at = coalesce(auth.users.email_confirmed_at, excluded.email_confirmed_at),
      raw_app_meta_data = excluded.raw_app_meta_data,
      aud = excluded.aud,
      role = excluded.role,
      updated_at = now();
