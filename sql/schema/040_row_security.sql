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
