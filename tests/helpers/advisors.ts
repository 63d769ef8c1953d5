// The hosted advisor lints that the Supabase CLI's `db advisors` does not run
// yet, and the checked-in baseline of findings onecart accepts on purpose.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "../../scripts/lib/database.ts";
import type { Sql } from "./db.ts";

export interface Finding {
  name: string;
  level: string;
  detail: string;
  cache_key: string;
}

export const baselineFile = join(repoRoot, "supabase", "advisors-baseline.json");

export interface Baseline {
  findings: Array<{ cache_key: string; reason: string }>;
}

export async function readBaseline(): Promise<Baseline> {
  return JSON.parse(await readFile(baselineFile, "utf8")) as Baseline;
}

/** The schemas the Data API exposes: supabase/config.toml's [api] schemas, and graphql_public as on a project. */
export async function exposedSchemas(): Promise<string[]> {
  const config = await readFile(join(repoRoot, "supabase", "config.toml"), "utf8");
  const api = /^\[api\][^[]*?^schemas\s*=\s*\[([^\]]*)\]/ms.exec(config)?.[1] ?? '"public"';
  return [...new Set([...api.split(",").map((s) => s.trim().replace(/^"|"$/g, "")).filter(Boolean), "graphql_public"])];
}

// Schemas the lints leave alone because the platform or an extension owns them.
const PLATFORM_SCHEMAS = [
  "_timescaledb_cache",
  "_timescaledb_catalog",
  "_timescaledb_config",
  "_timescaledb_internal",
  "auth",
  "cron",
  "extensions",
  "graphql",
  "graphql_public",
  "information_schema",
  "net",
  "pgmq",
  "pgroonga",
  "pgsodium",
  "pgsodium_masks",
  "pgtle",
  "pgbouncer",
  "pg_catalog",
  "realtime",
  "repack",
  "storage",
  "supabase_functions",
  "supabase_migrations",
  "tiger",
  "topology",
  "vault",
];

/**
 * Lints 0028 (anon) and 0029 (authenticated) `*_security_definer_function_executable`
 * of supabase/splinter (lints/0028_anon_security_definer_function_executable.sql,
 * lints/0029_authenticated_security_definer_function_executable.sql, as of
 * April 2026), which the hosted advisors run: a SECURITY DEFINER function in an
 * exposed schema that the role may execute. Same conditions and the same
 * cache keys (`<name>_<schema>_<function>_<identity arguments>`), written here
 * because the CLI's lint set lacks them.
 */
export async function securityDefinerLints(sql: Sql): Promise<Finding[]> {
  const schemas = await exposedSchemas();
  const rows = await sql`
    select r.role, n.nspname as schema, p.proname as name, pg_get_function_identity_arguments(p.oid) as args
      from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      cross join (values ('anon'), ('authenticated')) as r(role)
     where p.prosecdef
       and has_function_privilege(r.role, p.oid, 'EXECUTE')
       and n.nspname = any(${schemas})
       and n.nspname <> all(${PLATFORM_SCHEMAS})
     order by 2, 3, 4, 1`;
  return rows.map((r) => {
    const name = `${r.role}_security_definer_function_executable`;
    return {
      name,
      level: "WARN",
      detail: `Function \`${r.schema}.${r.name}(${r.args})\` can be executed by the \`${r.role}\` role as a ` +
        "`SECURITY DEFINER` function",
      cache_key: `${name}_${r.schema}_${r.name}_${r.args}`,
    };
  });
}
