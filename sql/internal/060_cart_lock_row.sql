-- Every cart mutation starts by taking the cart's row lock: that lock is what
-- serializes concurrent mutations of one cart (invariant 2). Callers have checked
-- the caller's store with pos.cart_store, before any lock is taken. A cart held
-- by another transaction is waited for at most 3 s, then `busy`
-- (sql/internal/015_bounded_waits.sql says why it is done this way).
create function pos.cart_row_for_update(p_cart_id uuid)
returns pos.carts
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts;
begin
  select * into v_cart from pos.carts c where c.id = p_cart_id for update skip locked;
  if found then
    return v_cart;
  end if;
  perform pos.bound_lock_wait();
  begin
    select * into v_cart from pos.carts c where c.id = p_cart_id for update;
  exception when lock_not_available then
    perform pos.raise_busy('Another request is still changing this cart.');
  end;
  if v_cart.id is null then
    perform pos.raise('not_found', 'No such cart.');
  end if;
  return v_cart;
end;
$$;

create function pos.assert_cart_open(p_cart pos.carts)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_cart.status in ('checked_out', 'abandoned', 'merged') then
    perform pos.raise('cart_closed', format('The cart is %s.', p_cart.status),
      case when p_cart.status = 'merged' then jsonb_build_object('merged_into', p_cart.merged_into) end);
  end if;
end;
$$;

create function pos.assert_expected_version(p_expected_version bigint, p_current_version bigint)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- Versions start at 1: a negative one is a malformed request, not a conflict.
  -- RPCs also call this with the expected version alone, first thing, so a
  -- negative one is refused before the cart is looked up or locked: the cart's
  -- state never decides how a malformed request is answered.
  if p_expected_version < 0 then
    perform pos.raise('invalid_input', 'An expected version is a whole number of at least 0.');
  end if;
  if p_expected_version is not null and p_expected_version <> p_current_version then
    perform pos.raise('version_conflict',
      format('Expected version %s, the cart is at version %s.', p_expected_version, p_current_version),
      jsonb_build_object('current_version', p_current_version));
  end if;
end;
$$;

-- Records the release of a lock whose time ran out. The token is kept: a payment
-- that succeeded meanwhile may still complete with it if no item changes.
create function pos.release_expired_lock(p_cart_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts;
begin
  update pos.carts c set status = 'active'
   where c.id = p_cart_id and c.status = 'locked' and c.lock_expires_at <= now()
  returning * into v_cart;
  if found then
    perform pos.publish_cart_change(p_cart_id, 'lock_expired',
      jsonb_build_object('locked_version', v_cart.locked_version, 'expired_at', v_cart.lock_expires_at));
  end if;
end;
$$;

-- The prologue of a mutation of the cart's contents: missing, closed, locked,
-- stale version, in that order. An expired lock is released here first (with its
-- own version), and the version the client saw before that release still
-- counts as current. A live lock taken with p_own_lock_ref is the caller's own
-- (lock_cart retried with the same checkout_ref): it comes back unchecked.
-- Every cart mutation runs this, so the common case (an active cart nobody else
-- holds, the version as expected or not given) is one statement and no nested
-- call: the helpers below are reached only when there is something to refuse
-- or release. Callers assign its result even when they do not use it: an
-- assignment is evaluated as an expression, without a statement's set-up.
create function pos.lock_cart_row(p_cart_id uuid, p_expected_version bigint, p_own_lock_ref text default null)
returns pos.carts
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts;
  v_seen_version bigint;
begin
  select * into v_cart from pos.carts c where c.id = p_cart_id for update skip locked;
  if not found then
    v_cart := pos.cart_row_for_update(p_cart_id);
  end if;
  v_seen_version := v_cart.version;
  if v_cart.status <> 'active' then
    perform pos.assert_cart_open(v_cart);
    if v_cart.status = 'locked' and v_cart.lock_expires_at <= now() then
      perform pos.release_expired_lock(p_cart_id);
      select * into v_cart from pos.carts c where c.id = p_cart_id;
    end if;
    if v_cart.status = 'locked' then
      if p_own_lock_ref is not null and v_cart.lock_checkout_ref = p_own_lock_ref then
        return v_cart;
      end if;
      perform pos.raise('cart_locked', 'The cart is locked for checkout.',
        jsonb_build_object('expires_at', v_cart.lock_expires_at, 'checkout_ref', v_cart.lock_checkout_ref));
    end if;
  end if;
  -- No expected version, or the one the cart is at: nothing to check.
  if p_expected_version <> v_cart.version then
    perform pos.assert_expected_version(p_expected_version, v_seen_version);
  end if;
  return v_cart;
end;
$$;

-- The prologue of a change to a live lock (update or unlock): the token must be
-- the one of the lock in force.
create function pos.lock_cart_row_for_token(p_cart_id uuid, p_lock_token uuid, p_expected_version bigint)
returns pos.carts
language plpgsql
set search_path = ''
as $$
declare
  v_cart pos.carts := pos.cart_row_for_update(p_cart_id);
begin
  perform pos.assert_cart_open(v_cart);
  if v_cart.status <> 'locked' or v_cart.lock_expires_at <= now() or v_cart.lock_token is distinct from p_lock_token then
    perform pos.raise('lock_mismatch', 'This lock token does not hold a live lock on the cart.');
  end if;
  perform pos.assert_expected_version(p_expected_version, v_cart.version);
  return v_cart;
end;
$$;

-- The store of a cart, after checking the caller may touch it, and, when asked,
-- the name and price of the store's active product p_product_id (null when
-- there is none). Read without a lock: a cart never changes store, and a
-- product's name and price are captured as they stand when the line is written. One statement does what
-- pos.assert_store_access does in three calls (cart, staff row, role): every
-- cart mutation pays for this before its row lock, so it is kept to one probe.
-- The rule is pos.can_access_store's, written out again here for the hot path
-- (a change to one is a change to both): staff reach their own store, roles
-- other than anon and authenticated reach every store, and another store's cart
-- answers exactly like a missing one.
create function pos.cart_target(
  p_cart_id uuid,
  p_product_id uuid,
  out store_id uuid,
  out product_name text,
  out product_price_cents bigint
)
returns record
language plpgsql
stable
set search_path = ''
as $$
declare
  v_is_staff boolean;
begin
  select c.store_id, p.name, p.price_cents,
         exists (select 1 from pos.staff s where s.user_id = auth.uid() and s.store_id = c.store_id)
    into store_id, product_name, product_price_cents, v_is_staff
    from pos.carts c
    left join pos.products p on p.id = p_product_id and p.store_id = c.store_id and p.active
   where c.id = p_cart_id;
  if store_id is null or not (v_is_staff or pos.request_role() not in ('anon', 'authenticated')) then
    perform pos.raise('not_found', 'No such cart.');
  end if;
end;
$$;

create function pos.cart_store(p_cart_id uuid)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
begin
  return (pos.cart_target(p_cart_id, null)).store_id;
end;
$$;
