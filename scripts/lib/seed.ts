// The rows of supabase/seed.sql, by name: the one place the tests, the
// benchmarks, the demo and `npm start` take the seed's ids from.
export const STORE_A = "5a000000-0000-4000-8000-000000000001";
export const STORE_B = "5b000000-0000-4000-8000-000000000001";
export const LOCATION_A1 = "1a000000-0000-4000-8000-000000000001";
export const LOCATION_A2 = "1a000000-0000-4000-8000-000000000002";
export const LOCATION_B1 = "1b000000-0000-4000-8000-000000000001";
export const PRODUCT_A = [1, 2, 3, 4, 5].map((n) => `9a000000-0000-4000-8000-00000000000${n}`);
export const PRODUCT_B1 = "9b000000-0000-4000-8000-000000000001";
export const CUSTOMER_A = [1, 2, 3].map((n) => `ca000000-0000-4000-8000-00000000000${n}`);
export const CUSTOMER_B1 = "cb000000-0000-4000-8000-000000000001";
export const STAFF_A1 = "ea000000-0000-4000-8000-000000000001";
export const STAFF_A2 = "ea000000-0000-4000-8000-000000000002";
export const STAFF_B1 = "eb000000-0000-4000-8000-000000000001";

/** The seeded staff's local sign-ins (the local stack only; a project's seed has no passwords). */
export const LOCAL_PASSWORD = "onecart-local";
export const STAFF_EMAILS: Record<string, string> = {
  [STAFF_A1]: "ana@blowing-rock.example",
  [STAFF_A2]: "ben@blowing-rock.example",
  [STAFF_B1]: "cruz@valle-crucis.example",
};
