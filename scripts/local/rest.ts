// POST /rest/v1/rpc/<name>: enough of PostgREST for supabase.rpc() to call
// onecart's RPCs on the local stack, the way it does on a Supabase project.
// Only RPCs, only POST with named arguments; tables are not exposed (onecart has
// none in public). Same role, same claims, same transaction shape as PostgREST
// and as the edge functions (functions/_shared/rpc.ts).
import { verifyToken } from "../../functions/_shared/auth.ts";
import { apiKeyRole } from "./api-keys.ts";
import { withDatabase } from "../../functions/_shared/db.ts";
import { ApiError } from "../../functions/_shared/errors.ts";
import { decodeUtf8, scanJson } from "../../functions/_shared/json.ts";
import { callRpc, type Claims, literal, type RpcName, RPCS, type SqlClient } from "../../functions/_shared/rpc.ts";

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type, content-profile, prefer",
};

// PostgREST's db-pool-acquisition-timeout default (docs/references/configuration.rst):
// a request waits this long for a pool connection, then gets PGRST003.
const POOL_ACQUISITION_TIMEOUT_MS = 10_000;

function reply(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...CORS, "content-type": "application/json", ...headers },
  });
}

/**
 * PostgREST's status for a Postgres error (src/PostgREST/Error.hs, mapSQLtoHTTP):
 * the same prefixes and special cases in the same order. `authed` is whether the
 * request ran as a role other than anon.
 */
export function postgrestStatus(code: string, message: string, authed: boolean): number {
  const p2 = code.slice(0, 2);
  if (p2 === "08") return 503;
  if (p2 === "09") return 500;
  if (p2 === "0L" || p2 === "0P") return 403;
  if (code === "23503" || code === "23505") return 409;
  if (code === "25006") return 405;
  if (code === "21000") return message.endsWith("requires a WHERE clause") ? 400 : 500;
  if (code === "22023") return message.startsWith("role") && message.endsWith("does not exist") ? 401 : 400;
  if (p2 === "25") return 500;
  if (p2 === "28") return 403;
  if (["2D", "38", "39", "3B", "40"].includes(p2)) return 500;
  if (code === "53400") return 500;
  if (p2 === "53") return 503;
  if (p2 === "54" || p2 === "55") return 500;
  if (code === "57P01") return 503;
  if (["57", "58", "F0", "HV"].includes(p2)) return 500;
  if (code === "P0001") return 400;
  if (p2 === "P0" || p2 === "XX") return 500;
  if (code === "42883") return message.startsWith("function xmlagg(") ? 406 : 404;
  if (code === "42P01") return 404;
  if (code === "42P17") return 500;
  if (code === "42501") return authed ? 403 : 401;
  if (p2 === "PT") {
    const status = Number(code.slice(2));
    return Number.isInteger(status) && status >= 100 && status <= 999 ? status : 500;
  }
  return 400;
}

/** PostgREST's error body `{code, message, details, hint}` and status for what an RPC threw. */
function postgrestError(error: unknown, role: string): Response {
  if (error instanceof ApiError && error.code === "busy") {
    // No connection within the acquisition timeout (src/PostgREST/Error.hs,
    // AcquisitionTimeoutUsageError): 504, whatever the request was.
    return reply(504, {
      code: "PGRST003",
      message: "Timed out acquiring connection from connection pool.",
      details: null,
      hint: null,
    });
  }
  if (error instanceof ApiError) {
    // onecart's own refusal before the database (input limits, text with NUL):
    // shaped as the PTnnn error the RPC would raise for it.
    return reply(error.status, { code: `PT${error.status}`, message: error.code, details: error.message, hint: null });
  }
  const e = error as { name?: string; code?: string; message?: string; detail?: string; hint?: string };
  if (e?.name !== "PostgresError" || typeof e.code !== "string") {
    // Not an answer from Postgres: the connection failed (PostgREST's ClientError).
    return reply(503, {
      code: "PGRST001",
      message: "Database client error. Retrying the connection.",
      details: e?.message ?? null,
      hint: null,
    });
  }
  const status = postgrestStatus(e.code, e.message ?? "", role !== "anon");
  const headers: Record<string, string> = { "proxy-status": `PostgREST; error=${e.code}` };
  if (status === 401) headers["www-authenticate"] = "Bearer";
  return reply(
    status,
    { code: e.code, message: e.message ?? "", details: e.detail ?? null, hint: e.hint ?? null },
    headers,
  );
}

// PostgREST logs in as `authenticator`, whose settings (on Supabase a statement
// and a lock timeout of 8 s) hold for its sessions; it reads each role's
// settings (statement_timeout of 8 s for authenticated, 3 s for anon) into its
// schema cache and applies the impersonated role's over them in every request.
// Both here, the role's last, so they win where both set one.
const roleSettings = new Map<string, Promise<[string, string][]>>();
function settingsOf(sql: SqlClient, role: string): Promise<[string, string][]> {
  let settings = roleSettings.get(role);
  if (!settings) {
    settings = sql.unsafe(
      `select split_part(c, '=', 1) as name, substr(c, strpos(c, '=') + 1) as value
         from pg_db_role_setting s
         join pg_roles r on r.oid = s.setrole
         cross join lateral unnest(s.setconfig) as c
        where r.rolname in ('authenticator', ${literal("text", role)})
          and s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
        order by r.rolname <> 'authenticator', s.setdatabase`,
    ).simple().then((rows) => (rows as { name: string; value: string }[]).map((r) => [r.name, r.value]));
    settings.catch(() => roleSettings.delete(role));
    roleSettings.set(role, settings);
  }
  return settings;
}

/**
 * The server's pool, one statement at a time, with no request of the functions' to
 * admit; each statement waits PostgREST's acquisition timeout, not the functions' 3 s.
 */
function db(): SqlClient {
  const admission = { waitMs: POOL_ACQUISITION_TIMEOUT_MS };
  return { unsafe: (text) => ({ simple: () => withDatabase(admission, (sql) => sql.unsafe(text).simple()) }) };
}

async function callAsPostgrest(name: RpcName, args: Record<string, unknown>, claims: Claims): Promise<unknown> {
  const sql = db();
  const settings = await settingsOf(sql, claims.role);
  return await callRpc(sql, name, args, claims, { lockTimeoutMs: null, statementTimeoutMs: null, settings });
}

export async function handleRest(request: Request, pathname: string): Promise<Response> {
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
  const match = /^\/rest\/v1\/rpc\/([a-z_]+)$/.exec(pathname);
  if (!match || request.method !== "POST") {
    return reply(404, { code: "PGRST125", message: "the local stack serves RPCs only", details: null, hint: null });
  }
  const name = match[1];
  if (!Object.hasOwn(RPCS, name)) {
    return reply(404, {
      code: "PGRST202",
      message: `Could not find the function public.${name}`,
      details: null,
      hint: null,
    });
  }
  // As PostgREST: the bearer token decides the role; without one, anon.
  const apikey = request.headers.get("apikey");
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1] ??
    (apikey?.startsWith("sb_") ? apikey : undefined);
  let claims: Claims = { role: "anon" };
  if (bearer?.startsWith("sb_")) {
    // The Supabase gateway turns an API key into its role before PostgREST sees it.
    const role = await apiKeyRole(bearer);
    if (!role) {
      return reply(401, {
        message: "Invalid API key",
        hint: "Double check your Supabase `anon` or `service_role` API key.",
      });
    }
    claims = { role };
  } else if (bearer) {
    try {
      claims = (await verifyToken(bearer)) as Claims;
    } catch {
      return reply(401, { code: "PGRST301", message: "JWT could not be verified", details: null, hint: null }, {
        "www-authenticate": 'Bearer error="invalid_token"',
      });
    }
    // PostgREST switches to the token's role as `authenticator`, which may become
    // only the API roles; a token without one runs as anon.
    claims.role ??= "anon";
    if (!["anon", "authenticated", "service_role"].includes(claims.role)) {
      return reply(403, {
        code: "42501",
        message: `permission denied to set role "${claims.role}"`,
        details: null,
        hint: null,
      });
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
    return reply(404, {
      code: "PGRST202",
      message: `Could not find the function public.${name}(${Object.keys(args)})`,
      details: `unknown arguments: ${unknown.join(", ")}`,
      hint: null,
    });
  }
  try {
    return reply(200, await callAsPostgrest(name as RpcName, args, claims));
  } catch (error) {
    return postgrestError(error, claims.role);
  }
}
