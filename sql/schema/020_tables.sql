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
  -- A line is one product with one set of options. The options themselves can
  -- be up to 1 KiB, more than a btree entry may hold, so the index keys a hash
  -- of their stored text (options are stored canonically: equal options, equal
  -- text). add_item compares the options too, so a collision never merges.
  options_key uuid not null generated always as (md5(options::text)::uuid) stored,
  constraint cart_items_one_line_per_options unique (cart_id, product_id, options_key)
);
create index cart_items_product_id_idx on pos.cart_items (product_id);

create table pos.cart_events (
  id bigint generated always as identity primary key,
  cart_id uuid not null references pos.carts (id),
  version bigint not null,
  kind text not null check (kind in (
    'created', 'item_added', 'item_quantity_set', 'item_removed', 'locked', 'lock_updated',
    'unlocked', 'lock_expired', 'checked_out', 'merged', 'abandoned', 'repaired')),
  actor_id uuid,
  at timestamptz not null default now(),
  data jsonb not null default '{}',
  unique (cart_id, version)
);
-- ops.store_health reads the history by time. BRIN: the history is appended in
-- time order, so the index costs next to nothing on each cart mutation.
create index cart_events_at_brin_idx on pos.cart_events using brin (at);

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
  -- A replay returns the stored response; ops.store_health counts replays here,
  -- where the key lives, so the figure is purged with it after a week.
  replays integer not null default 0,
  last_replayed_at timestamptz,
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
