// npm run bench:profile: where one add_item's server time goes, call by call.
// Starts its own Postgres with pg_stat_statements and auto_explain loaded and
// track_functions on, runs add_item the way the functions call it (role and
// claims set, then the call, in one transaction) on a cart of 5 lines, and
// prints, per call: each function's self and total time (track_functions), each
// statement inside them (pg_stat_statements, track = all), and the plan of
// every nested statement of one call (auto_explain). It also times the hosted
// realtime.send shape (a partitioned realtime.messages, an `id` added to
// payloads lacking one) against the local one, on copies in a scratch schema.
// BENCH_PROFILE_CALLS sets the number of measured calls (default 3000).
import { performance } from "node:perf_hooks";
import { readFile } from "node:fs/promises";
import { buildDatabase, currentDefinitionFiles } from "../scripts/lib/database.ts";
import { startPostgres } from "../scripts/lib/postgres.ts";
import { connect } from "../scripts/lib/database.ts";
import { callRpc } from "../functions/_shared/rpc.ts";
import { LOCATION_A1, PRODUCTS, STAFF, staffClaims } from "./context.ts";

const CALLS = Number(process.env.BENCH_PROFILE_CALLS ?? 3000);
const us = (x: number) => x.toFixed(1).padStart(8);

const pg = await startPostgres({
  settings: {
    shared_preload_libraries: "pg_stat_statements,auto_explain",
    track_functions: "all",
    "pg_stat_statements.track": "all",
    "pg_stat_statements.track_utility": "off",
    // The profile measures CPU, not the disk: durable commits are the bench's business.
    synchronous_commit: "off",
  },
});
const sql = connect(pg.adminUrl, { max: 1 });
try {
  await buildDatabase(pg.adminUrl);
  if (process.env.BENCH_PROFILE_SQL === "current") {
    // The functions as sql/ defines them now, over the migrated schema: to
    // profile a change before it is composed into a migration.
    for (const file of await currentDefinitionFiles()) {
      if (!/sql\/(internal|rpc)\//.test(file)) continue;
      await sql.unsafe((await readFile(file, "utf8")).replace(/^create function /gm, "create or replace function "));
    }
  }
  await sql`create extension if not exists pg_stat_statements`;
  const claims = staffClaims(STAFF[0]);
  const rpc = (name: "add_item" | "get_or_create_cart", args: Record<string, unknown>) =>
    callRpc(sql as never, name, args as never, claims) as Promise<any>;
  const cart = await rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "profile" });
  for (const p of PRODUCTS) await rpc("add_item", { p_cart_id: cart.id, p_product_id: p });
  await sql`create table if not exists public.bench_counter (id int primary key, n bigint not null)`;
  await sql`insert into public.bench_counter values (1, 0) on conflict do nothing`;
  const add = (i: number) => rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCTS[i % 5] });
  const raw = () =>
    sql.unsafe(`select set_config('role', 'postgres', true), set_config('request.jwt.claims', '{}', true);
                update public.bench_counter set n = n + 1 where id = 1`).simple();

  // Warm: plans cached, catalog caches filled, the cart's pages in memory.
  for (let i = 0; i < 300; i++) await add(i);
  for (let i = 0; i < 300; i++) await raw();

  async function measure(label: string, op: (i: number) => Promise<unknown>) {
    await sql`select pg_stat_reset(), pg_stat_statements_reset()`;
    await sql`select pg_stat_clear_snapshot()`;
    const t = performance.now();
    for (let i = 0; i < CALLS; i++) await op(i);
    const wall = ((performance.now() - t) * 1000) / CALLS;
    await new Promise((r) => setTimeout(r, 600)); // stats reach shared memory at most once a second
    await sql`select pg_stat_force_next_flush()`;
    const fns = await sql`select schemaname || '.' || funcname as fn, calls,
        total_time * 1000 / calls as total_us, self_time * 1000 / calls as self_us
      from pg_stat_user_functions where calls > 0 order by total_time desc`;
    const stmts = await sql`select toplevel, calls, total_exec_time * 1000 / ${CALLS} as us,
        regexp_replace(left(query, 110), '\\s+', ' ', 'g') as query
      from pg_stat_statements where calls >= ${CALLS} and query not like '%pg_stat%'
      order by toplevel desc, total_exec_time desc limit 25`;
    console.log(`\n## ${label}: ${us(wall)} µs per call at the client (one connection, round trip included)\n`);
    console.log("functions (per call of each)  total µs   self µs   calls");
    for (const f of fns) {
      console.log(`  ${String(f.fn).padEnd(28)}${us(f.total_us)}  ${us(f.self_us)}   ${f.calls}`);
    }
    console.log("\nstatements (per call)   µs   calls/call");
    for (const s of stmts) {
      console.log(`  ${s.toplevel ? "top " : "nest"} ${us(s.us)}  ${(Number(s.calls) / CALLS).toFixed(2)}  ${s.query}`);
    }
    return wall;
  }

  const [{ pid }] = await sql`select pg_backend_pid() as pid`;
  // BENCH_PROFILE_PERF=<file>: also sample the backend with Linux perf while add_item runs.
  // The Postgres binary has no frame pointers, so call graphs are unwound from
  // DWARF; read them with `perf report -i <file> --children --sort symbol`.
  const perfOut = process.env.BENCH_PROFILE_PERF;
  const { spawn } = await import("node:child_process");
  const perf = perfOut
    ? spawn("perf", ["record", "-F", "999", "--call-graph", "dwarf,16384", "-p", String(pid), "-o", perfOut], {
      stdio: "ignore",
    })
    : null;
  if (perf) await new Promise((r) => setTimeout(r, 500));
  const addWall = await measure("add_item on a cart of 5 lines", add);
  if (perf) {
    perf.kill("SIGINT");
    await new Promise((r) => perf.once("exit", r));
  }
  const tables = await sql`select relname, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables
    where schemaname = 'pos' and n_tup_upd > 0 order by relname`;
  for (const t of tables) console.log(`  ${t.relname}: ${t.n_tup_upd} updates, ${t.n_tup_hot_upd} HOT`);
  const rawWall = await measure("raw single-row update", () => raw());

  // The plan of every statement one add_item runs, with its timing.
  const plans: string[] = [];
  const explain = connect(pg.adminUrl, { max: 1, onnotice: (n) => plans.push(String(n.message)) });
  await explain.unsafe(`load 'auto_explain'`);
  await explain.unsafe(`set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on;
    set auto_explain.log_nested_statements = on; set auto_explain.log_timing = on;
    set auto_explain.log_level = notice; set client_min_messages = notice`);
  for (let i = 0; i < 3; i++) {
    plans.length = 0;
    await callRpc(explain as never, "add_item", { p_cart_id: cart.id, p_product_id: PRODUCTS[i % 5] }, claims);
  }
  console.log("\n## auto_explain of one add_item (nested statements, ANALYZE)\n");
  for (const p of plans) console.log(p.split("\n").map((l) => "  " + l).join("\n") + "\n");
  await explain.end();

  // realtime.send: the local stand-in against the hosted shape, on the same payload.
  await sql.unsafe(`
    create schema if not exists rt_hosted;
    create table if not exists rt_hosted.messages (
      topic text not null, extension text not null, payload jsonb, event text, private boolean default false,
      updated_at timestamp not null default now(), inserted_at timestamp not null default now(),
      id uuid not null default gen_random_uuid(), primary key (id, inserted_at)
    ) partition by range (inserted_at);
    create index if not exists messages_inserted_at_topic_index on rt_hosted.messages (inserted_at desc, topic)
      where extension = 'broadcast' and private is true;
    do $do$ begin
      for d in -1..2 loop
        execute format('create table if not exists rt_hosted.messages_%s partition of rt_hosted.messages
          for values from (%L) to (%L)', to_char(current_date + d, 'YYYY_MM_DD'), current_date + d, current_date + d + 1);
      end loop;
    end $do$;
    create or replace function rt_hosted.send(payload jsonb, event text, topic text, private boolean default true)
    returns void language plpgsql as $f$
    declare
      generated_id uuid;
      final_payload jsonb;
    begin
      begin
        generated_id := gen_random_uuid();
        if payload ? 'id' then
          final_payload := payload;
        else
          final_payload := jsonb_set(payload, '{id}', to_jsonb(generated_id));
        end if;
        execute format('SET LOCAL realtime.topic TO %L', topic);
        insert into rt_hosted.messages (id, payload, event, topic, private, extension)
        values (generated_id, final_payload, event, topic, private, 'broadcast');
      exception when others then
        raise warning 'ErrorSendingBroadcastMessage: %', sqlerrm;
      end;
    end $f$;
  `);
  const [{ snapshot }] = await sql`select pos.cart_snapshot(${cart.id}) as snapshot`;
  const queueLike = { location_id: LOCATION_A1, entries: [] as unknown[] };
  const sends: Array<[string, string, unknown]> = [
    ["local realtime.send, cart snapshot", "realtime.send", snapshot],
    ["hosted shape, cart snapshot (has id)", "rt_hosted.send", snapshot],
    ["hosted shape, queue snapshot (id added)", "rt_hosted.send", queueLike],
  ];
  console.log("\n## realtime.send, one call per transaction (function total, µs)\n");
  for (const [label, fn, payload] of sends) {
    const text = `select ${fn}($1::jsonb, 'cart_updated', 'cart:profile', true)`;
    for (let i = 0; i < 200; i++) await sql.unsafe(text, [payload as never]);
    await sql`select pg_stat_reset()`;
    for (let i = 0; i < CALLS; i++) await sql.unsafe(text, [payload as never]);
    await new Promise((r) => setTimeout(r, 600));
    await sql`select pg_stat_force_next_flush()`;
    const [f] = await sql`select total_time * 1000 / ${CALLS} as us from pg_stat_user_functions
      where schemaname || '.' || funcname = ${fn}`;
    console.log(`  ${label.padEnd(44)}${us(f?.us ?? NaN)}`);
  }
  console.log(`\nadd_item / raw update at the client: ${(addWall / rawWall).toFixed(2)}×`);
} finally {
  await sql.end();
  await pg.stop();
}
