// One Postgres per test run and one template database built the production way
// (bootstrap, `supabase db push`, seed). Each test file clones the template,
// which takes a few tens of milliseconds.
import type { TestProject } from "vitest/node";
import { startPostgres } from "../scripts/lib/postgres.ts";
import { buildDatabase, createDatabase, dropDatabase } from "../scripts/lib/database.ts";

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
    await dropDatabase(pg.url, template);
    await buildDatabase(await createDatabase(pg.url, template));
  } catch (error) {
    await pg.stop();
    throw error;
  }
  project.provide("adminUrl", pg.url);
  project.provide("templateDatabase", template);
  return async () => {
    if (pg.external) await dropDatabase(pg.url, template);
    await pg.stop();
  };
}
