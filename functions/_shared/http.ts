// The request pipeline every onecart function shares: CORS, size limit, auth,
// JSON parsing, validation, one RPC within bounded waits, error mapping, one
// log line.
import { z } from "npm:zod@4.6.7";
import { authenticate } from "./auth.ts";
import { ClientGone, withDatabase } from "./db.ts";
import type { Database } from "./database.types.ts";
import { ApiError, fromPostgresError } from "./errors.ts";
import { decodeUtf8, parseJson } from "./json.ts";
import { callRpc, type RpcName } from "./rpc.ts";
import { noteRefusal } from "./refusals.ts";

export const MAX_BODY_BYTES = 64 * 1024;

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type, idempotency-key, x-request-id",
  "access-control-max-age": "86400",
  // Browsers hide other response headers from scripts; a POS web client needs these.
  "access-control-expose-headers": "retry-after, x-request-id",
};

export interface RouteContext {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  idempotencyKey: string | null;
}

/** An RPC's arguments as `supabase gen types` prints them from the database. */
export type RpcArgsOf<N extends RpcName> = Database["public"]["Functions"][N]["Args"];

interface RouteTo<N extends RpcName> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** e.g. "/:cart_id/items/:item_id", relative to the function's own path. */
  path: string;
  rpc: N;
  /**
   * Validates and renames the request into the RPC's arguments, typed from the
   * generated database types: a misspelled or missing parameter fails `deno check`.
   */
  args(ctx: RouteContext): RpcArgsOf<N>;
  /** The status for a null result (call_next with no one waiting: 204). */
  emptyStatus?: number;
}

/** A route to one RPC; the `rpc` name selects which arguments `args` must return. */
export type Route = { [N in RpcName]: RouteTo<N> }[RpcName];

type NoExtra<A, Shape> = A & { [K in Exclude<keyof A, keyof Shape>]: never };

/**
 * One row of a route table. TypeScript does not check a returned object for
 * extra keys on its own, so `args` is inferred and held to the RPC's `Args`
 * exactly: a misspelled optional parameter fails `deno check` too.
 */
export function route<N extends RpcName, A extends RpcArgsOf<N>>(
  row: Omit<RouteTo<N>, "args"> & { args(ctx: RouteContext): NoExtra<A, RpcArgsOf<N>> },
): Route {
  return row as unknown as Route;
}

type CompiledRoute = Route & {
  pattern: RegExp;
  names: string[];
};

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split("/")
    .map((part) => {
      if (!part.startsWith(":")) return part;
      names.push(part.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { ...route, pattern: new RegExp(`^${source === "" ? "/?" : `${source}/?`}$`), names };
}

export const uuid = z.guid({ error: "must be a uuid" });
/** For routes that take no body: none, or an empty JSON object. */
export const noBody = z.undefined({ error: "this route takes no body" }).or(z.strictObject({}));

/** Parses `value` with `schema`, or throws invalid_input naming what was wrong. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const details = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new ApiError("invalid_input", "The request does not match what this route takes.", { issues: details });
  }
  return result.data;
}

/** The JSON body, read up to the limit whatever Content-Length claimed. */
const CONNECTION_GONE = [Deno.errors.BadResource, Deno.errors.ConnectionReset, Deno.errors.BrokenPipe];

async function readBody(request: Request): Promise<unknown> {
  if (!request.body) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    // The connection broke halfway through the body (Deno reports its resource
    // gone): the client hung up. Nothing was sent on, and nobody is left to
    // answer; logged as such, not as a fault of ours. Anything else is ours.
    if (request.signal.aborted || CONNECTION_GONE.some((kind) => error instanceof kind)) throw new ClientGone();
    throw error;
  }
  if (size === 0) return undefined;
  return parseJson(decodeUtf8(concat(chunks, size)));
}

function tooLarge(): ApiError {
  return new ApiError("payload_too_large", `A request body is at most ${MAX_BODY_BYTES} bytes.`);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * The cart or location a change is about, whose share of the pool it uses: the
 * row it will lock is the cart's, or the location's queue (an entry's own row
 * for the entry routes). Reads take no lock and never wait for one, so they
 * have no share to keep to: a held cart can still be read.
 */
function targetOf(method: string, args: Record<string, unknown>): string | null {
  if (method === "GET") return null;
  const target = args.p_cart_id ?? args.p_location_id ?? args.p_entry_id;
  return typeof target === "string" ? target : null;
}

// nginx's "client closed request": never seen by the client, only in the log.
const CLIENT_GONE_STATUS = 499;

function json(status: number, body: unknown, headers: Record<string, string>): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { ...CORS_HEADERS, ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
  });
}

/** A Deno.serve handler for the function `name` and its routes. */
export function createHandler(name: string, routes: Route[]): (request: Request) => Promise<Response> {
  const compiled = routes.map(compile);
  // Deployed, the path starts with /<name>; the local stack also passes /functions/v1/<name>.
  const prefix = new RegExp(`^(?:/functions/v1)?/${name}(?=/|$)`);

  return async function handle(request: Request): Promise<Response> {
    const started = performance.now();
    const requestId = request.headers.get("x-request-id") ?? crypto.randomUUID();
    const url = new URL(request.url);
    const path = url.pathname.replace(prefix, "") || "/";
    let routeName = "unmatched";
    let status = 500;
    let code: string | null = null;
    const headers = { "x-request-id": requestId };
    try {
      if (request.method === "OPTIONS") {
        status = 204;
        return new Response(null, { status, headers: { ...CORS_HEADERS, ...headers } });
      }
      let match: RegExpExecArray | null = null;
      const route = compiled.find((r) => r.method === request.method && (match = r.pattern.exec(path)));
      if (!route || !match) throw new ApiError("not_found", `No route ${request.method} ${path}.`);
      routeName = `${route.method} ${route.path || "/"}`;
      const params = Object.fromEntries(route.names.map((n, i) => [n, match![i + 1]]));

      // Refused before anything else is done for it, authentication included.
      if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) throw tooLarge();
      const claims = await authenticate(request);
      const body = await readBody(request);
      const args = route.args({
        params,
        query: Object.fromEntries(url.searchParams),
        body,
        idempotencyKey: request.headers.get("idempotency-key"),
      });
      const rpcArgs = args as Record<string, unknown>;
      const result = await withDatabase(
        { target: targetOf(request.method, rpcArgs), signal: request.signal },
        (sql, lockWaitMs) => callRpc(sql, route.rpc, rpcArgs, claims, { lockTimeoutMs: lockWaitMs }),
      ).catch(noteRefusal(route.rpc, rpcArgs));
      status = result === null && route.emptyStatus ? route.emptyStatus : 200;
      return json(status, status === 200 ? result : undefined, headers);
    } catch (error) {
      if (error instanceof ClientGone) {
        // Dropped before it reached the database, or its statement cancelled
        // before it committed: it will never be applied.
        status = CLIENT_GONE_STATUS;
        code = "client_gone";
        return new Response(null, { status, headers: { ...CORS_HEADERS, ...headers } });
      }
      const apiError = error instanceof ApiError ? error : fromPostgresError(error);
      if (apiError) {
        status = apiError.status;
        code = apiError.code;
        const retryAfter = apiError.retryAfter;
        return json(
          status,
          apiError.toBody(),
          retryAfter ? { ...headers, "retry-after": String(retryAfter) } : headers,
        );
      }
      status = 500;
      code = "internal_error";
      console.error(JSON.stringify({ level: "error", request_id: requestId, error: String(error) }));
      return json(500, { error: { code, message: "Something went wrong on our side.", details: null } }, headers);
    } finally {
      console.log(JSON.stringify({
        level: "info",
        fn: name,
        method: request.method,
        route: routeName,
        status,
        code,
        ms: Math.round((performance.now() - started) * 10) / 10,
        request_id: requestId,
      }));
    }
  };
}
