// npm start: the whole onecart stack on one port, until Ctrl-C.
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "./lib/database.ts";
import { staffToken, startStack, type Stack } from "./lib/stack.ts";
import { runDemo } from "./lib/demo.ts";

const STAFF = [
  ["ea000000-0000-4000-8000-000000000001", "store A (Blowing Rock Barbers), owner"],
  ["ea000000-0000-4000-8000-000000000002", "store A (Blowing Rock Barbers), staff"],
  ["eb000000-0000-4000-8000-000000000001", "store B (Valle Crucis Cuts), owner"],
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

/** Claims .onecart/pid for this process; false when another stack holds it. */
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

let stack: Stack | undefined;
let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping onecart…");
  await stack?.stop().catch((error) => console.error(error));
  await rm(stackFile, { force: true });
  await rm(pidFile, { force: true });
  console.log("Stopped.");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  console.log("Starting onecart: Postgres, migrations (supabase db push), seed, functions, realtime…");
  stack = await startStack({
    port: Number(process.env.PORT ?? 54321),
    onOutput: process.env.ONECART_LOG_REQUESTS === "1" ? (t) => process.stdout.write(t) : undefined,
  });
} catch (error) {
  console.error(`onecart could not start: ${(error as Error).message}`);
  await stop(1);
}
const s = stack!;
await writeFile(stackFile, JSON.stringify({
  api_url: s.apiUrl,
  db_url: s.dbUrl,
  admin_db_url: s.adminDbUrl,
  anon_key: s.anonKey,
  service_role_key: s.serviceRoleKey,
  jwt_secret: s.jwtSecret,
}, null, 2) + "\n");

const tokens = await Promise.all(STAFF.map(([id]) => staffToken(s.jwtSecret, id, 24 * 3600)));
console.log(`
onecart is running.

         API URL: ${s.apiUrl}
   Functions URL: ${s.apiUrl}/functions/v1/{carts,queue}
    Realtime URL: ${s.apiUrl.replace("http", "ws")}/realtime/v1/websocket
          DB URL: ${s.dbUrl}  (postgres, the project role)
    Admin DB URL: ${s.adminDbUrl}${s.postgres.external ? "  (ONECART_DATABASE_URL)" : "  (embedded Postgres 17)"}
      JWT secret: ${s.jwtSecret}
        anon key: ${s.anonKey}
service_role key: ${s.serviceRoleKey}

Staff tokens (24 h; more with \`npm run token -- <user id>\`):
${STAFF.map(([id, who], i) => `  ${id}  ${who}\n    ${tokens[i]}`).join("\n")}

Written to .onecart/stack.json. Ctrl-C stops everything.
`);

if (process.env.ONECART_DEMO !== "0") {
  try {
    await runDemo(s, (line) => console.log(line));
  } catch (error) {
    console.error(`demo failed: ${(error as Error).message}`);
  }
}
