// The contract's seed fixture, by name (scripts/lib/seed.ts), an id no row has, and a
// manager the seed lacks.
import { STORE_A } from "../../scripts/lib/seed.ts";
import type { Sql } from "./db.ts";

export * from "../../scripts/lib/seed.ts";
export const MISSING = "00000000-0000-4000-8000-00000000dead";

/** A manager of store A. The seed has none; the ops tests that need one add her with addManagerA. */
export const MANAGER_A = "ea000000-0000-4000-8000-0000000000a3";

export async function addManagerA(sql: Sql): Promise<void> {
  await sql`insert into auth.users (id, email) values (${MANAGER_A}, 'mia@blowing-rock.example')`;
  await sql`insert into pos.staff (user_id, store_id, role) values (${MANAGER_A}, ${STORE_A}, 'manager')`;
}
