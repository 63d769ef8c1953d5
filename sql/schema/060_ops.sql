-- The tables operations adds: a record of refusals that roll back, and the
-- history of alerts.

-- `version_conflict`, `cart_locked` and `busy` roll their transaction back, so
-- nothing of them survives in the cart's history. The functions report each one
-- afterwards, apart from the request (public.record_refusal). Append-only: a storm
-- of refusals is exactly when a shared counter row would become a hot spot.
create table pos.refusals (
  id bigint generated always as identity primary key,
  store_id uuid not null references pos.stores (id),
  code text not null check (code in ('version_conflict', 'cart_locked', 'busy')),
  rpc text not null check (length(rpc) between 1 and 100),
  at timestamptz not null default now()
);
create index refusals_store_at_idx on pos.refusals (store_id, at);

-- Every alert that opened, and when it closed; public.check_alerts() writes it
-- every minute. An alert is identified by its kind and subject (a cart, a queue
-- entry, a group of duplicate carts, a store), and at most one of each is open.
create table pos.alert_history (
  id bigint generated always as identity primary key,
  kind text not null check (kind in (
    'duplicate_open_carts', 'stuck_lock', 'totals_mismatch', 'long_wait', 'conflict_rise', 'busy_rise')),
  subject text not null,
  store_id uuid not null references pos.stores (id),
  severity text not null check (severity in ('critical', 'warning')),
  since timestamptz not null,
  detail jsonb not null default '{}',
  opened_at timestamptz not null,
  closed_at timestamptz,
  check (closed_at is null or closed_at >= opened_at)
);
create unique index alert_history_one_open_idx on pos.alert_history (kind, subject) where closed_at is null;
create index alert_history_store_idx on pos.alert_history (store_id, opened_at);

alter table pos.refusals enable row level security;
alter table pos.alert_history enable row level security;
revoke all on pos.refusals, pos.alert_history from public, anon, authenticated, service_role;
-- No client reads these tables: owners read their store's figures and alerts
-- through public.get_store_health and public.list_store_alerts.
create policy no_client_access on pos.refusals for select to authenticated using (false);
create policy no_client_access on pos.alert_history for select to authenticated using (false);
