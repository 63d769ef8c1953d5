-- The seed fixture: two stores, their locations, products, customers and staff (docs/api.md, "The seed"). Re-runnable.
insert into pos.stores (id, name) values
  ('5a000000-0000-4000-8000-000000000001', 'Blowing Rock Barbers'),
  ('5b000000-0000-4000-8000-000000000001', 'Valle Crucis Cuts')
on conflict (id) do nothing;

insert into pos.locations (id, store_id, name) values
  ('1a000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000001', 'Main Street'),
  ('1a000000-0000-4000-8000-000000000002', '5a000000-0000-4000-8000-000000000001', 'Sunset Drive'),
  ('1b000000-0000-4000-8000-000000000001', '5b000000-0000-4000-8000-000000000001', 'Broadstone Road')
on conflict (id) do nothing;

insert into pos.products (id, store_id, name, price_cents) values
  ('9a000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000001', 'Beard Trim', 500),
  ('9a000000-0000-4000-8000-000000000002', '5a000000-0000-4000-8000-000000000001', 'Hot Towel Shave', 1200),
  ('9a000000-0000-4000-8000-000000000003', '5a000000-0000-4000-8000-000000000001', 'Haircut', 2500),
  ('9a000000-0000-4000-8000-000000000004', '5a000000-0000-4000-8000-000000000001', 'Cut and Color', 3500),
  ('9a000000-0000-4000-8000-000000000005', '5a000000-0000-4000-8000-000000000001', 'The Full Works', 4000),
  ('9b000000-0000-4000-8000-000000000001', '5b000000-0000-4000-8000-000000000001', 'Haircut', 2200)
on conflict (id) do nothing;

insert into pos.customers (id, store_id, name) values
  ('ca000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000001', 'Ada Greer'),
  ('ca000000-0000-4000-8000-000000000002', '5a000000-0000-4000-8000-000000000001', 'Ben Watauga'),
  ('ca000000-0000-4000-8000-000000000003', '5a000000-0000-4000-8000-000000000001', 'Cora Linville'),
  ('cb000000-0000-4000-8000-000000000001', '5b000000-0000-4000-8000-000000000001', 'Dell Banner')
on conflict (id) do nothing;

-- The fixture's staff users. No password here: this file may be pushed to a
-- project (`supabase db push --include-seed`), where nobody should sign in with a
-- known password. The local stack adds `onecart-local` from sql/local/seed.sql.
insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at) values
  ('ea000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated', 'ana@blowing-rock.example',
   '{"provider": "email", "providers": ["email"]}', '{}', now(), now()),
  ('ea000000-0000-4000-8000-000000000002', 'authenticated', 'authenticated', 'ben@blowing-rock.example',
   '{"provider": "email", "providers": ["email"]}', '{}', now(), now()),
  ('eb000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated', 'cruz@valle-crucis.example',
   '{"provider": "email", "providers": ["email"]}', '{}', now(), now())
on conflict (id) do nothing;

insert into pos.staff (user_id, store_id, role) values
  ('ea000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000001', 'owner'),
  ('ea000000-0000-4000-8000-000000000002', '5a000000-0000-4000-8000-000000000001', 'staff'),
  ('eb000000-0000-4000-8000-000000000001', '5b000000-0000-4000-8000-000000000001', 'owner')
on conflict do nothing;
