-- Databases built before these indexes hold duplicate open carts (production
-- had 263): fold them into the oldest first, or the indexes cannot be built.
select public.merge_duplicate_carts();

-- Invariant 1: at most one open cart per (customer, location), and per (device,
-- location) for carts with no customer. get_or_create_cart inserts with
-- ON CONFLICT against exactly these predicates.
create unique index carts_one_open_per_customer_idx
  on pos.carts (customer_id, location_id)
  where status in ('active', 'locked') and customer_id is not null;
create unique index carts_one_open_per_device_idx
  on pos.carts (device_id, location_id)
  where status in ('active', 'locked') and customer_id is null;
