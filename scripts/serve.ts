// The local stack's one Deno process: /functions/v1/<name> served by the very
// handler modules that `supabase functions deploy` ships,
// /realtime/v1/websocket for supabase-js Realtime, /rest/v1/rpc/<name> for
// supabase.rpc(), and /auth/v1/* for supabase.auth. Run by scripts/start.ts.
import carts from "../functions/carts/handler.ts";
import queue from "../functions/queue/handler.ts";
import { startRealtime } from "./local/realtime.ts";
import { closeAuth, handleAuth } from "./local/auth.ts";
import { handleRest } from "./local/rest.ts";
import { gatewayRefusal } from "./local/gateway.ts";
import { createPosApp } from "./local/pos-app.ts";

const FUNCTIONS: Record<string, (request: Request) => Promise<Response>> = { carts, queue };

const port = Number(Deno.env.get("PORT") ?? 54321);
const dbUrl = Deno.env.get("SUPABASE_DB_URL")!;
const log = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
// Whatever a client or Postgres does, this server stays up: a stray rejection or
// exception is logged, never fatal.
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  log({ level: "error", unhandled: "rejection", error: String(event.reason?.stack ?? event.reason) });
});
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  log({ level: "error", unhandled: "exception", error: String(event.error?.stack ?? event.message) });
});
const realtime = await startRealtime(dbUrl, log);
const posApp = createPosApp({
  // ONECART_APP_DIST: another build to serve, as a host does after a new deploy.
  distDir: Deno.env.get("ONECART_APP_DIST") ?? new URL("../app/dist", import.meta.url).pathname,
  anonKey: Deno.env.get("SUPABASE_ANON_KEY") ?? "",
});

const server = Deno.serve(
  { port, hostname: "127.0.0.1", onListen: () => log({ level: "info", listening: port }) },
  async (request, info) => {
    const url = new URL(request.url);
    const { pathname } = url;
    const refusal = await gatewayRefusal(request, url);
    if (refusal) return refusal;
    if (pathname === "/realtime/v1/websocket") {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("expected a websocket upgrade", { status: 426 });
      }
      return realtime.handle(request);
    }
    if (pathname.startsWith("/rest/v1/")) return handleRest(request, pathname);
    if (pathname.startsWith("/auth/v1/")) return handleAuth(request, pathname, info.remoteAddr.hostname);
    if (pathname === "/pos" || pathname.startsWith("/pos/")) return posApp(request, pathname);
    const match = /^\/functions\/v1\/([^/]+)/.exec(pathname);
    const fn = match && FUNCTIONS[match[1]];
    if (fn) return fn(request);
    if (pathname === "/health") return new Response("ok");
    return Response.json({ error: { code: "not_found", message: `No route ${pathname}.`, details: null } }, {
      status: 404,
    });
  },
);

async function shutdown() {
  await realtime.close();
  await closeAuth();
  await server.shutdown();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
