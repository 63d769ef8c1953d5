// POST /rest/v1/rpc/<name>: enough of PostgREST for supabase.rpc() to call
// onecart's RPCs on the local stack, the way it does on a Supabase project.
// Only RPCs, only POST with named arguments; tables are not exposed (onecart has
// none in public). Same role, same claims, same transaction shape as PostgREST
// and as the edge functions (functions/_shared/rpc.ts).
import { verifyToken } from "../../functions/_shared/auth.ts";
import { db } from "../../functions/_shared/db.ts";
import { callRpc, type Claims, RPCS, type RpcName } from "../../functions/_shared/rpc.ts";
import { ApiError } from "../../functions/_shared/errors.ts";
import { decodeUtf8, scanJson } from "../../functions/_shared/json.ts";

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type, content-profile, prefer",
};

function reply(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...CORS, "content-type": "application/json" } });
}

/** PostgREST's error body and its status rules for the errors onecart can meet. */
function postgrestError(error: unknown, role: string): Response {
  if (error instanceof ApiError) {
    return reply(error.status, { code: `PT${error.status}`, message: error.code, details: error.message, hint: null });
  }
  const e = error as { code?: string; message?: string; detail?: string; hint?: string };
  const code = e.code ?? "PGRST000";
  const status = /^PT\d{3}$/.test(code) ? Number(code.slice(2))
    : code === "42501" ? (role === "anon" ? 401 : 403)
    : code.startsWith("22") ? 400
    : code === "42883" ? 404
    : 500;
  return reply(status, { code, message: e.message ?? "error", details: e.detail ?? null, hint: e.hint ?? null });
}

export async function handleRest(request: Request, pathname: string): Promise<Response> {
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
  const match = /^\/rest\/v1\/rpc\/([a-z_]+)$/.exec(pathname);
  if (!match || request.method !== "POST") {
    return reply(404, { code: "PGRST125", message: "the local stack serves RPCs only", details: null, hint: null });
  }
  const name = match[1];
  if (!Object.hasOwn(RPCS, name)) {
    return reply(404, { code: "PGRST202", message: `Could not find the function public.${name}`, details: null,
      hint: null });
  }
  // As PostgREST: the bearer token decides the role; without one, anon.
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  let claims: Claims = { role: "anon" };
  if (bearer) {
    try {
      claims = (await verifyToken(bearer)) as Claims;
    } catch {
      return reply(401, { code: "PGRST301", message: "JWT could not be verified", details: null, hint: null });
    }
  }
  let args: Record<string, unknown>;
  try {
    // Refused here what would reach the SQL altered (a rounded number, a lone
    // surrogate turned U+FFFD) or not at all; the RPC refuses the same on a project.
    const text = decodeUtf8(new Uint8Array(await request.arrayBuffer()));
    scanJson(text);
    args = text ? JSON.parse(text) : {};
    if (typeof args !== "object" || args === null || Array.isArray(args)) throw new Error("not an object");
  } catch (error) {
    if (error instanceof ApiError) return postgrestError(error, claims.role);
    return reply(400, { code: "PGRST102", message: "Invalid JSON body", details: null, hint: null });
  }
  const signature = RPCS[name as RpcName] as Record<string, string>;
  const unknown = Object.keys(args).filter((k) => !Object.hasOwn(signature, k));
  if (unknown.length) {
    return reply(404, { code: "PGRST202", message: `Could not find the function public.${name}(${Object.keys(args)})`,
      details: `unknown arguments: ${unknown.join(", ")}`, hint: null });
  }
  try {
    return reply(200, await callRpc(db(), name as RpcName, args, claims));
  } catch (error) {
    return postgrestError(error, claims.role);
  }
}
