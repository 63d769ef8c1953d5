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
