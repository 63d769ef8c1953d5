// The two ways to the contract, both driven by the contract table: the edge
// functions (the default: each operation's route, arguments in its path,
// query or body, the key as `Idempotency-Key`) and `supabase.rpc()` straight
// to Postgres (arguments as `p_` parameters, the key as `p_idempotency_key`).
// Each call is one attempt that answers or throws one OnecartError.
import type { SupabaseClient } from "@supabase/supabase-js";
import type { ApiMethod, CallOptions } from "./api.ts";
import { type Operation, OPERATIONS } from "./contract.ts";
import { isContractErrorCode, OnecartError } from "./errors.ts";

type Args = Record<string, unknown>;

const enc = encodeURIComponent;

/** The route's request for these arguments, each put where the contract table says. */
function request(method: ApiMethod, args: Args) {
  const op: Operation = OPERATIONS[method];
  const route = op.route!;
  const query: string[] = [];
  let body: Args | undefined;
  for (const [name, value] of Object.entries(args)) {
    const place = op.args[name];
    if (!place) throw new TypeError(`${method} takes no argument ${name}.`);
    // Undefined is "not given" (the SQL default applies); the functions refuse unknown fields.
    if (value === undefined || place === "path") continue;
    if (place === "query") {
      if (value !== null) query.push(`${enc(name)}=${enc(String(value))}`);
    } else (body ??= {})[name] = value;
  }
  if (!body && Object.values(op.args).includes("body")) body = {};
  const path = route.path.replace(/:(\w+)/g, (_, name: string) => enc(String(args[name])));
  return { name: `${route.fn}${path}${query.length ? `?${query.join("&")}` : ""}`, method: route.method, body };
}

function retryAfter(headers: Headers | undefined): number | null {
  const value = headers?.get("retry-after");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

/** A function's error answer, `{ error: { code, message, details } }`, as an OnecartError. */
async function fromResponse(response: Response): Promise<OnecartError> {
  let body: any = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy's or a crashed function's page. The status says enough.
  }
  const e = body?.error;
  const options = {
    status: response.status,
    details: e?.details ?? null,
    retryAfterSeconds: retryAfter(response.headers),
  };
  if (isContractErrorCode(e?.code)) return new OnecartError(e.code, String(e.message ?? e.code), options);
  if (response.status === 502 || response.status === 503 || response.status === 504) {
    // A gateway answering for a function it could not reach: onecart itself never answered.
    return new OnecartError(
      "network_error",
      `No answer from onecart (the gateway answered ${response.status}).`,
      options,
    );
  }
  if (response.status >= 500) {
    return new OnecartError("server_error", `The server answered ${response.status}.`, options);
  }
  // A 4xx without a contract code (a gateway's 401, say): keep the status, never retry it.
  const code = response.status === 401 ? "not_authenticated" : response.status === 404 ? "not_found" : "invalid_input";
  return new OnecartError(code, `The server answered ${response.status}.`, options);
}

function functionsCaller(supabase: SupabaseClient) {
  const rpc = rpcCaller(supabase);
  return async (method: ApiMethod, args: Args, options: CallOptions = {}): Promise<unknown> => {
    const op: Operation = OPERATIONS[method];
    if (!op.route) return rpc(method, args, options);
    const { name, method: httpMethod, body } = request(method, args);
    const headers: Record<string, string> = {};
    if (options.idempotencyKey && op.key) headers["Idempotency-Key"] = options.idempotencyKey;
    const { data, error, response } = await supabase.functions.invoke(name, {
      method: httpMethod,
      headers,
      body,
      signal: options.signal,
    });
    if (error) {
      const context = (error as { context?: unknown }).context;
      if (context instanceof Response) throw await fromResponse(context);
      throw new OnecartError("network_error", "No answer from onecart: the network or the server is unreachable.", {
        cause: context ?? error,
      });
    }
    if (response?.status === 204 || data === "") return null;
    return data;
  };
}

function rpcCaller(supabase: SupabaseClient) {
  return async (method: ApiMethod, args: Args, options: CallOptions = {}): Promise<unknown> => {
    const op: Operation = OPERATIONS[method];
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) {
      if (!op.args[k]) throw new TypeError(`${method} takes no argument ${k}.`);
      if (v !== undefined) params[`p_${k}`] = v;
    }
    if (options.idempotencyKey && op.key) params.p_idempotency_key = options.idempotencyKey;
    let builder = supabase.rpc(op.rpc as never, params as never);
    if (options.signal) builder = builder.abortSignal(options.signal);
    const { data, error, status } = await builder;
    if (!error) return data;
    if (!status) {
      throw new OnecartError("network_error", "No answer from onecart: the network or the server is unreachable.", {
        cause: error,
      });
    }
    // PostgREST: MESSAGE is the code, DETAIL the sentence, HINT the details as JSON.
    let details: unknown = null;
    if (error.hint) {
      try {
        details = JSON.parse(error.hint);
      } catch {
        details = { hint: error.hint };
      }
    }
    if (isContractErrorCode(error.message)) {
      return Promise.reject(new OnecartError(error.message, error.details || error.message, { status, details }));
    }
    if (status === 502 || status === 503 || status === 504) {
      throw new OnecartError("network_error", `No answer from onecart (the gateway answered ${status}).`, { status });
    }
    if (status >= 500) {
      throw new OnecartError("server_error", error.message || `The server answered ${status}.`, { status });
    }
    throw new OnecartError(
      status === 401 ? "not_authenticated" : status === 404 ? "not_found" : "invalid_input",
      error.message || `The server answered ${status}.`,
      { status, details },
    );
  };
}

export type Caller = (method: ApiMethod, args: Args, options?: CallOptions) => Promise<unknown>;

export function createCaller(supabase: SupabaseClient, via: "functions" | "rpc"): Caller {
  return via === "rpc" ? rpcCaller(supabase) : functionsCaller(supabase);
}
