// The schema as a whole: sql/ and supabase/migrations describe the same
// database, the Supabase advisors find nothing, the generated types are current,
// and the TypeScript tables mirror the SQL ones.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  applyCurrentDefinition,
  bootstrap,
  connect,
  createDatabase,
  dropDatabase,
  supabaseCli,
} from "../../scripts/lib/database.ts";
import { projectUrl } from "../../scripts/lib/postgres.ts";
import { generateTypes, typesFile } from "../../scripts/gen-types.ts";
import { ERROR_STATUS } from "../../functions/_shared/errors.ts";
import { RPCS } from "../../functions/_shared/rpc.ts";
import { freshDatabase, rolledBack, type Sql, type TestDatabase } from "../helpers/db.ts";
import { readBaseline, securityDefinerLints } from "../helpers/advisors.ts";

let db: TestDatabase;
const fromSqlDir = `sqldir_${process.pid}`;
let sqlDir: Sql;

beforeAll(async () => {
  db = await freshDatabase();
  const adminUrl = await createDatabase(inject("adminUrl"), fromSqlDir);
  await bootstrap(adminUrl);
  await applyCurrentDefinition(projectUrl(adminUrl));
  sqlDir = connect(projectUrl(adminUrl), { max: 2 });
});
afterAll(async () => {
  await sqlDir?.end();
  await dropDatabase(inject("adminUrl"), fromSqlDir);
});

/** Everything about onecart's objects that a reader of sql/ would expect to find. */
async function catalog(sql: Sql) {
  const schemas = ["pos", "ops", "public"];
  return {
    columns: await sql`
      select table_schema, table_name, column_name, data_type, is_nullable, column_default, is_generated
        from information_schema.columns where table_schema = any(${schemas}) order by 1, 2, 3`,
    constraints: await sql`
      select conrelid::regclass::text as rel, conname, pg_get_constraintdef(oid) as def
        from pg_constraint where connamespace = any(${schemas}::regnamespace[]) order by 1, 2`,
    indexes: await sql`select schemaname, indexname, indexdef from pg_indexes
                        where schemaname = any(${schemas}) order by 1, 2`,
    policies: await sql`select schemaname, tablename, policyname, cmd, roles::text[], qual, with_check
                         from pg_policies where schemaname = any(${[...schemas, "realtime"]}) order by 1, 2, 3`,
    rls: await sql`select c.oid::regclass::text as rel, c.relrowsecurity from pg_class c
                    where c.relnamespace = any(${schemas}::regnamespace[]) and c.relkind in ('r', 'v') order by 1`,
    tableGrants: await sql`select table_schema, table_name, grantee, privilege_type
                            from information_schema.role_table_grants
                           where table_schema = any(${schemas}) order by 1, 2, 3, 4`,
    functions: await sql`
      select p.oid::regprocedure::text as fn, p.prosrc, p.prosecdef, p.provolatile, p.proconfig,
             pg_get_function_result(p.oid) as result, pg_get_function_arguments(p.oid) as args,
             (select array_agg(a::text order by a::text) from aclexplode(p.proacl) a) as acl
        from pg_proc p where p.pronamespace = any(${schemas}::regnamespace[]) order by 1`,
    views:
      await sql`select schemaname, viewname, definition from pg_views where schemaname = any(${schemas}) order by 1, 2`,
    defaultAcl: await sql`select defaclnamespace::regnamespace::text, defaclobjtype, defaclacl::text[]
                           from pg_default_acl order by 1, 2`,
  };
}

describe("sql/ and supabase/migrations", () => {
  it("build the same tables, columns, indexes, policies, grants and function bodies", async () => {
    const [migrated, defined] = await Promise.all([catalog(db.sql), catalog(sqlDir)]);
    for (const key of Object.keys(migrated) as Array<keyof typeof migrated>) {
      expect(defined[key], key).toEqual(migrated[key]);
    }
    expect(migrated.functions.length).toBeGreaterThan(30);
  });
});

describe("supabase db advisors", () => {
  it("finds nothing at its default levels", async () => {
    const { stdout, stderr } = await supabaseCli(["db", "advisors", "--db-url", db.url]);
    expect(stdout + stderr).toContain("No issues found");
  });

  it("find nothing, at any level and with the hosted lints the CLI lacks, beyond the baseline and unused indexes", async () => {
    const { stdout } = await supabaseCli([
      "db",
      "advisors",
      "--db-url",
      db.url,
      "--type",
      "all",
      "--level",
      "info",
      "--output-format",
      "json",
    ]);
    const { results } = JSON.parse(stdout) as { results: Array<{ name: string; detail: string; cacheKey: string }> };
    // Every index of a fresh database is unused.
    const cli = results.filter((r) => r.name !== "unused_index").map((r) => ({ key: r.cacheKey, detail: r.detail }));
    const hosted = (await securityDefinerLints(db.sql)).map((f) => ({ key: f.cache_key, detail: f.detail }));
    const baseline = await readBaseline();
    const accepted = new Set(baseline.findings.map((f) => f.cache_key));
    const found = [...cli, ...hosted];

    expect(found.filter((f) => !accepted.has(f.key)), "findings not in supabase/advisors-baseline.json").toEqual([]);
    const keys = new Set(found.map((f) => f.key));
    expect(baseline.findings.filter((f) => !keys.has(f.cache_key)), "baseline entries no finding matches").toEqual([]);
    for (const entry of baseline.findings) expect(entry.reason.length, entry.cache_key).toBeGreaterThan(20);
  });

  it("the hosted lint 0029 flags a SECURITY DEFINER function signed-in users may call, which the baseline does not hold", async () => {
    await rolledBack(db.sql, async (tx) => {
      await tx`create function public.not_in_the_baseline() returns int language sql security definer
                 set search_path = '' as 'select 1'`;
      await tx`grant execute on function public.not_in_the_baseline() to authenticated`;
      const findings = await securityDefinerLints(tx);
      expect(findings.map((f) => f.cache_key)).toContain(
        "authenticated_security_definer_function_executable_public_not_in_the_baseline_",
      );
      const accepted = new Set((await readBaseline()).findings.map((f) => f.cache_key));
      expect(findings.filter((f) => !accepted.has(f.cache_key)).length).toBeGreaterThan(0);
    });
  });
});

describe("generated types", () => {
  it("match what `supabase gen types typescript` prints now (npm run types:gen rewrites them)", async () => {
    expect(await readFile(typesFile, "utf8")).toBe(await generateTypes(db.url));
  });
});

describe("tables mirrored in TypeScript", () => {
  it("ERROR_STATUS is pos.errors", async () => {
    const rows = await db.sql`select code, http_status, sqlstate from pos.errors order by code`;
    expect(Object.fromEntries(rows.map((r) => [r.code, r.http_status]))).toEqual(ERROR_STATUS);
    expect(rows.every((r) => r.sqlstate === `PT${r.http_status}`)).toBe(true);
  });

  it("RPCS is the public functions' parameters", async () => {
    const rows = await db.sql`
      select p.proname, coalesce(p.proargnames, '{}') as names,
             array(select format_type(t, null) from unnest(p.proargtypes) t) as types
        from pg_proc p where p.pronamespace = 'public'::regnamespace order by 1`;
    const actual = Object.fromEntries(rows.map((r) => [
      r.proname,
      Object.fromEntries(r.names.map((n: string, i: number) => [n, r.types[i]])),
    ]));
    expect(actual).toEqual(RPCS);
  });
});
