// One Postgres per test run and one template database built the production way
// (bootstrap as the superuser, then `supabase db push` and the seed as the
// non-superuser `postgres`). Each test file clones the template, which takes a
// few tens of milliseconds; databases are created and dropped with the admin URL.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { startPostgres } from "../scripts/lib/postgres.ts";
import { buildDatabase, createDatabase, dropDatabase, repoRoot } from "../scripts/lib/database.ts";
import { denoBin } from "../scripts/lib/stack.ts";
import { ensureClientBuilt } from "../scripts/lib/client.ts";

declare module "vitest" {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  const pg = await startPostgres();
  const template = `onecart_template_${process.pid}`;
  try {
    await Promise.all([
      (async () => {
        await dropDatabase(pg.adminUrl, template);
        await buildDatabase(await createDatabase(pg.adminUrl, template));
      })(),
      // On a fresh machine, fetch the functions' npm imports once, before several
      // test files start Deno servers at the same time.
      promisify(execFile)(denoBin, [
        "cache",
        "functions/carts/index.ts",
        "functions/queue/index.ts",
        "scripts/serve.ts",
      ], { cwd: repoRoot, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" } }),
      // Once, before the test files: the app, `npm start` and the type-checks
      // import @onecart/client's build, and must not rebuild it under each other.
      ensureClientBuilt(),
    ]);
  } catch (error) {
    await pg.stop();
    throw error;
  }
  project.provide("adminUrl", pg.adminUrl);
  project.provide("templateDatabase", template);
  return async () => {
    if (pg.external) await dropDatabase(pg.adminUrl, template);
    await pg.stop();
  };
}
