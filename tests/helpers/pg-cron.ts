// pg_cron's interface as far as onecart uses it (cron.job and cron.schedule), for
// databases without the extension: the embedded Postgres has no pg_cron. Jobs
// are recorded, never run; a test runs a job's command itself.
import type { Sql } from "./db.ts";

export async function installCronStandIn(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`create schema cron`;
    await tx`create table cron.job (jobid bigserial primary key, schedule text not null, command text not null,
                                    jobname text, username text not null default current_user)`;
    await tx`create function cron.schedule(job_name text, schedule text, command text) returns bigint
               language sql as $$
                 insert into cron.job (jobname, schedule, command) values (job_name, schedule, command) returning jobid
               $$`;
  });
}
