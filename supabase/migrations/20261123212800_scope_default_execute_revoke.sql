-- The first migration revoked EXECUTE from PUBLIC on every function `postgres`
-- creates from then on, in every schema: on a shared project that silently
-- breaks other features' functions. Postgres cannot narrow a global default per
-- schema, so the global default is restored here; onecart's migrations revoke
-- it only while they create onecart's functions (npm run migration:new writes
-- that around each one). Functions that exist keep their grants.
alter default privileges grant execute on functions to public;
