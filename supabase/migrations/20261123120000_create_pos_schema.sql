-- onecart schema: private tables in pos, read policies, no client writes.
-- Nothing is callable unless a migration grants it by full signature. Supabase
-- grants EXECUTE on every new function in `public` to anon and authenticated by
-- default; Postgres grants it to PUBLIC everywhere.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from public, anon, authenticated;

create schema pos;
comment on schema pos is 'onecart tables and internals. Not exposed by PostgREST; clients use the RPCs in public.';
revoke all on schema pos from public;
grant usage on schema pos to authenticated, service_role;
create table pos.stores (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_at timestamptz not null default now()
);

create table pos.locations (
  id uuid primary key default gen_random_uuid(),
  store_id uuid not null references pos.stores (id),
  name text not null,
  -- Counter behind queue tickets; the row update serializes ticket handout.
  last_ticket_number integer not null default 0,
  unique (id, store_id)
);
create index locations_store_id_idx on pos.locations (store_id);

create table pos.customers (
  id uuid primary key default gen_random_uuid(),
  store_id uuid not null references pos.stores (id),
  name text not null,
  unique (id, store_id)
);
create index customers_store_id_idx on pos.customers (store_id);

create table pos.products (
  id uuid primary key default gen_random_uuid(),
  store_id uuid not null references pos.stores (id),
  name text not null,
  price_cents bigint not null check (price_cents >= 0),
  active boolean not null default true
);
create index products_store_id_idx on pos.products (store_id);

create table pos.staff (
  user_id uuid not null references auth.users (id) on delete cascade,
  store_id uuid not null references pos.stores (id),
  role text not null default 'staff' check (role in ('owner', 'manager', 'staff')),
  primary key (user_id, store_id)
);
create index staff_store_id_idx on pos.staff (store_id);

create table pos.carts (
  id uuid primary key default gen_random_uuid(),
  store_id uuid not null references pos.stores (id),
  location_id uuid not null,
  customer_id uuid,
  device_id text check (length(device_id) between 1 and 200),
  status text not null default 'active'
    check (status in ('active', 'locked', 'checked_out', 'abandoned', 'merged')),
  version bigint not null default 1,
  subtotal_cents bigint not null default 0,
  item_count bigint not null default 0,
  merged_into uuid references pos.carts (id),
  -- The latest lock. Its token outlives an expiry (a payment may have succeeded
  -- while the lock ran out, and complete_checkout must still accept it) and is
  -- cleared only by unlock_cart or replaced by the next lock.
  lock_token uuid,
  lock_checkout_ref text,
  lock_expires_at timestamptz,
  locked_version bigint,
  lock_total_cents bigint,
  checkout_ref text,
  paid_total_cents bigint,
  checked_out_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (location_id, store_id) references pos.locations (id, store_id),
  foreign key (customer_id, store_id) references pos.customers (id, store_id),
  check (customer_id is not null or device_id is not null),
  check (status <> 'merged' or merged_into is not null)
);
create index carts_store_id_idx on pos.carts (store_id);
create index carts_location_open_idx on pos.carts (location_id) where status in ('active', 'locked');
create index carts_customer_store_idx on pos.carts (customer_id, store_id);
create index carts_location_store_idx on pos.carts (location_id, store_id);
create index carts_merged_into_idx on pos.carts (merged_into) where merged_into is not null;
create index carts_lock_expiry_idx on pos.carts (lock_expires_at) where status = 'locked';

create table pos.cart_items (
  id uuid primary key default gen_random_uuid(),
  cart_id uuid not null references pos.carts (id),
  product_id uuid not null references pos.products (id),
  quantity integer not null check (quantity > 0),
  -- Captured from the product when the line is first added: a line keeps the
  -- name and price it was sold under.
  name text not null,
  unit_price_cents bigint not null check (unit_price_cents >= 0),
  options jsonb not null default '{}' check (jsonb_typeof(options) = 'object'),
  -- Lines are shown in the order they were first added; now() is the same for
  -- every row of a transaction, so a sequence orders them.
  line_no bigint generated always as identity,
  added_at timestamptz not null default now(),
  unique (cart_id, product_id, options)
);
create index cart_items_product_id_idx on pos.cart_items (product_id);

create table pos.cart_events (
  id bigint generated always as identity primary key,
  cart_id uuid not null references pos.carts (id),
  version bigint not null,
  kind text not null check (kind in (
    'created', 'item_added', 'item_quantity_set', 'item_removed', 'locked', 'lock_updated',
    'unlocked', 'lock_expired', 'checked_out', 'merged', 'abandoned')),
  actor_id uuid,
  at timestamptz not null default now(),
  data jsonb not null default '{}',
  unique (cart_id, version)
);

create table pos.queue_entries (
  id uuid primary key default gen_random_uuid(),
  store_id uuid not null references pos.stores (id),
  location_id uuid not null,
  customer_id uuid not null,
  cart_id uuid not null references pos.carts (id),
  ticket_number integer not null,
  status text not null default 'waiting' check (status in ('waiting', 'serving', 'done', 'left')),
  joined_at timestamptz not null default now(),
  called_at timestamptz,
  finished_at timestamptz,
  foreign key (location_id, store_id) references pos.locations (id, store_id),
  foreign key (customer_id, store_id) references pos.customers (id, store_id),
  unique (location_id, ticket_number)
);
create unique index queue_entries_one_live_per_customer_idx
  on pos.queue_entries (customer_id, location_id) where status in ('waiting', 'serving');
create index queue_entries_waiting_idx on pos.queue_entries (location_id, ticket_number) where status = 'waiting';
create index queue_entries_store_id_idx on pos.queue_entries (store_id);
create index queue_entries_cart_id_idx on pos.queue_entries (cart_id);
create index queue_entries_location_store_idx on pos.queue_entries (location_id, store_id);
create index queue_entries_customer_store_idx on pos.queue_entries (customer_id, store_id);

-- First response of each idempotent request, replayed on retry. Keys are scoped
-- to a store: two shops may pick the same key, one shop may not reuse it.
create table pos.idempotency_keys (
  store_id uuid not null references pos.stores (id),
  key text not null,
  request jsonb not null,
  response jsonb not null,
  created_at timestamptz not null default now(),
  primary key (store_id, key)
);
create index idempotency_keys_created_at_idx on pos.idempotency_keys (created_at);

-- The contract's error codes, one row each. pos.raise() reads it; the TypeScript
-- mapping in functions/_shared/errors.ts mirrors it and a test keeps them equal.
create table pos.errors (
  code text primary key,
  http_status integer not null check (http_status between 400 and 599),
  -- PostgREST answers SQLSTATE PTnnn with HTTP status nnn.
  sqlstate text not null generated always as ('PT' || http_status::text) stored,
  description text not null
);
insert into pos.errors (code, http_status, description) values
  ('invalid_input',          400, 'malformed ids, quantity out of range, neither customer nor device, unknown fields'),
  ('not_authenticated',      401, 'no, expired, or badly signed JWT'),
  ('forbidden',              403, 'the role may not call this'),
  ('not_found',              404, 'cart, item, product, location, customer or entry missing, or in another store'),
  ('version_conflict',       409, 'p_expected_version differs'),
  ('cart_closed',            409, 'cart is checked_out, abandoned or merged'),
  ('lock_mismatch',          409, 'wrong or stale lock token'),
  ('total_mismatch',         409, 'paid total differs from the locked total'),
  ('cart_changed',           409, 'lock expired and the cart changed before checkout'),
  ('idempotency_key_reused', 422, 'same key, different request'),
  ('cart_empty',             422, 'lock or checkout of an empty cart'),
  ('cart_locked',            423, 'cart is locked by a live lock'),
  ('payload_too_large',      413, 'a function request body over 64 KiB');
-- Clients never write a table: every write goes through an RPC. They may read
-- their own store's rows, which is what lets the read RPCs run as the caller
-- and leave authorization to these policies.
alter table pos.stores enable row level security;
alter table pos.locations enable row level security;
alter table pos.customers enable row level security;
alter table pos.products enable row level security;
alter table pos.staff enable row level security;
alter table pos.carts enable row level security;
alter table pos.cart_items enable row level security;
alter table pos.cart_events enable row level security;
alter table pos.queue_entries enable row level security;
alter table pos.idempotency_keys enable row level security;
alter table pos.errors enable row level security;

revoke all on all tables in schema pos from public, anon, authenticated, service_role;
grant select on pos.stores, pos.locations, pos.customers, pos.products, pos.staff, pos.carts,
  pos.cart_items, pos.cart_events, pos.queue_entries, pos.errors to authenticated, service_role;

create policy staff_read_own_rows on pos.staff for select to authenticated
  using (user_id = (select auth.uid()));

create policy staff_read_store on pos.stores for select to authenticated
  using (id in (select s.store_id from pos.staff s where s.user_id = (select auth.uid())));
create policy staff_read_store_locations on pos.locations for select to authenticated
  using (store_id in (select s.store_id from pos.staff s where s.user_id = (select auth.uid())));
create policy staff_read_store_customers on pos.customers for select to authenticated
  using (store_id in (select s.store_id from pos.staff s where s.user_id = (select auth.uid())));
create policy staff_read_store_products on pos.products for select to authenticated
  using (store_id in (select s.store_id from pos.staff s where s.user_id = (select auth.uid())));
create policy staff_read_store_carts on pos.carts for select to authenticated
  using (store_id in (select s.store_id from pos.staff s where s.user_id = (select auth.uid())));
create policy staff_read_store_queue on pos.queue_entries for select to authenticated
  using (store_id in (select s.store_id from pos.staff s where s.user_id = (select auth.uid())));
-- Lines and events follow their cart: the carts policy applies inside the subquery.
create policy staff_read_store_cart_items on pos.cart_items for select to authenticated
  using (exists (select 1 from pos.carts c where c.id = cart_id));
create policy staff_read_store_cart_events on pos.cart_events for select to authenticated
  using (exists (select 1 from pos.carts c where c.id = cart_id));
-- The error table is the same for everyone; pos.raise() reads it as the caller.
create policy anyone_reads_errors on pos.errors for select to authenticated using (true);
-- pos.idempotency_keys: no grant and no client policy; only the RPCs' owner touches it.
create policy no_client_access on pos.idempotency_keys for select to authenticated using (false);
