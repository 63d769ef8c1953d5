// npm start: the whole onecart stack on one port, until Ctrl-C.
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { repoRoot } from "./lib/database.ts";
import { LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY, type Stack, staffToken, startStack } from "./lib/stack.ts";
import { runDemo } from "./lib/demo.ts";
import { ensureAppBuilt } from "./lib/app.ts";
import { createLogFilter, hiddenSummary } from "./lib/logs.ts";
import { LOCAL_PASSWORD, STAFF_A1, STAFF_A2, STAFF_B1, STAFF_EMAILS } from "./lib/seed.ts";

const STAFF = [
  [STAFF_A1, "store A (Blowing Rock Barbers), owner"],
  [STAFF_A2, "store A (Blowing Rock Barbers), staff"],
  [STAFF_B1, "store B (Valle Crucis Cuts), owner"],
] as const;

// ONECART_STATE_DIR lets the tests run a stack beside a developer's own.
const stateDir = process.env.ONECART_STATE_DIR ?? join(repoRoot, ".onecart");
const pidFile = join(stateDir, "pid");
const stackFile = join(stateDir, "stack.json");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Removed again on exit when this run made it.
const madeStateDir = !existsSync(stateDir);

/** A path as a person at the repository's top types it. */
function shown(path: string): string {
  const inside = relative(repoRoot, path);
  return inside && !inside.startsWith("..") ? inside : path;
}

/** Claims the pid file for this process; false when another stack holds it. */
async function claimPidFile(): Promise<boolean> {
  await mkdir(stateDir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(pidFile, "wx");
      await file.writeFile(String(process.pid));
      await file.close();
      return true;
    } catch {
      const pid = Number(await readFile(pidFile, "utf8").catch(() => "0"));
      if (pid && alive(pid)) return false;
      await rm(pidFile, { force: true }); // left by a stack that died
    }
  }
  return false;
}

if (!(await claimPidFile())) {
  const pid = (await readFile(pidFile, "utf8")).trim();
  const running = JSON.parse(await readFile(stackFile, "utf8").catch(() => "{}"));
  console.error(`onecart is already running (pid ${pid})${running.api_url ? ` at ${running.api_url}` : ""}.`);
  console.error("Stop it with Ctrl-C in its terminal, or use the one that runs.");
  process.exit(1);
}

// What the stack prints while it runs (scripts/lib/logs.ts); a line per request
// with ONECART_LOG_REQUESTS=1. A 500 or a failed statement is never silent.
const showRequests = process.env.ONECART_LOG_REQUESTS === "1";
const logs = createLogFilter(showRequests);

let stack: Stack | undefined;
let stopping = false;
// Every way out runs the same cleanup: the Deno server and Postgres stopped,
// the embedded data directory and this run's state removed.
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  const summary = hiddenSummary(logs, showRequests);
  if (summary) console.log(`\n${summary}`);
  console.log("\nStopping onecart…");
  await stack?.stop().catch((error) => console.error(error));
  await rm(stackFile, { force: true });
  await rm(pidFile, { force: true });
  if (madeStateDir) await rm(stateDir, { recursive: true, force: true });
  console.log("Stopped.");
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(0));
process.on("uncaughtException", (error) => {
  console.error(`onecart failed: ${error.stack ?? error}`);
  void stop(1);
});
process.on("unhandledRejection", (reason) => {
  console.error(`onecart failed: ${(reason as Error)?.stack ?? reason}`);
  void stop(1);
});

// Quiet while the stack builds (the CLI's first push probes tables that do not
// exist yet) and while it stops (connections closing are expected then).
let serving = false;

function showLines(text: string, format: (line: string) => string | null) {
  if (!serving || stopping) return;
  for (const line of text.split("\n")) {
    const shown = line.trim() && format(line);
    if (shown) console.log(shown);
  }
}

try {
  console.log("Starting onecart: Postgres, migrations (supabase db push), seed, functions, realtime…");
  await ensureAppBuilt((line) => console.log(line));
  stack = await startStack({
    port: Number(process.env.PORT ?? 54321),
    onOutput: (text) => showLines(text, logs.functionLine),
    onPostgresLog: (text) => showLines(text, logs.postgresLine),
  });
} catch (error) {
  console.error(`onecart could not start: ${(error as Error).message}`);
  await stop(1);
}
const s = stack!;
serving = true;
// The stack keeps serving through a Postgres restart (its postmaster comes back
// on the same data); it stops, cleaning up, when either part is gone for good.
s.server.process.once("exit", (code, signal) => {
  if (stopping) return;
  console.error(`The functions server exited (${signal ?? code}); stopping onecart.`);
  void stop(1);
});
void s.postgres.gone.then(() => {
  if (stopping) return;
  console.error("Postgres stopped and did not come back; stopping onecart.");
  void stop(1);
});
await writeFile(
  stackFile,
  JSON.stringify(
    {
      api_url: s.apiUrl,
      db_url: s.dbUrl,
      admin_db_url: s.adminDbUrl,
      anon_key: s.anonKey,
      service_role_key: s.serviceRoleKey,
      jwt_secret: s.jwtSecret,
    },
    null,
    2,
  ) + "\n",
);

const tokens = await Promise.all(STAFF.map(([id]) => staffToken(s.jwtSecret, id, 24 * 3600)));
console.log(`
onecart is running.

         POS app: ${s.apiUrl}/pos/   (sign in as one of the staff below)
         API URL: ${s.apiUrl}
   Functions URL: ${s.apiUrl}/functions/v1/{carts,queue}
    Realtime URL: ${s.apiUrl.replace("http", "ws")}/realtime/v1/websocket
          DB URL: ${s.dbUrl}  (postgres, the project role)
    Admin DB URL: ${s.adminDbUrl}${s.postgres.external ? "  (ONECART_DATABASE_URL)" : "  (embedded Postgres 17)"}
      JWT secret: ${s.jwtSecret}
        anon key: ${s.anonKey}
service_role key: ${s.serviceRoleKey}
 publishable key: ${LOCAL_PUBLISHABLE_KEY}
      secret key: ${LOCAL_SECRET_KEY}

Staff sign-ins (supabase.auth.signInWithPassword; local only), password ${LOCAL_PASSWORD}:
${STAFF.map(([id, who]) => `  ${STAFF_EMAILS[id].padEnd(26)} ${id}  ${who}`).join("\n")}
More staff: \`npm run staff:add -- --email … --password … --store <store id> --role staff\`.

Staff tokens (24 h; more with \`npm run token -- <user id>\`):
${STAFF.map(([id, who], i) => `  ${id}  ${who}\n    ${tokens[i]}`).join("\n")}

Written to ${shown(stackFile)}. Ctrl-C stops everything and removes ${
  madeStateDir ? `${shown(stateDir)} (this run made it)` : `stack.json and pid from ${shown(stateDir)}`
}.
`);

if (process.env.ONECART_DEMO !== "0") {
  try {
    await runDemo(s, (line) => console.log(line));
  } catch (error) {
    console.error(`demo failed: ${(error as Error).message}`);
  }
}
