// Who is calling: read from what a Supabase project gives its functions, so the
// same code runs hosted and on the local stack (which sets the same variables).
//
// - User JWTs signed with the project's asymmetric keys: Supabase's own
//   @supabase/server verifies them against SUPABASE_JWKS (inline, injected into
//   every function) or, when that set does not name the token's key id (the
//   project rotated its keys since the function started), against
//   SUPABASE_URL/auth/v1/.well-known/jwks.json, fetched again on an unknown key id.
// - HS256 JWTs signed with the legacy JWT secret: the project's legacy tokens, the
//   legacy anon/service_role API keys, and every token of the local stack.
//   @supabase/server refuses a token without a key id, and hosted functions get no
//   JWT secret (the CLI refuses secret names starting with SUPABASE_), so the
//   secret comes from ONECART_JWT_SECRET (`supabase secrets set`), checked here.
// - `sb_secret_…` API keys (SUPABASE_SECRET_KEYS) act as service_role, for server
//   integrations; `sb_publishable_…` keys identify no one: not_authenticated.
import { verifyCredentials } from "npm:@supabase/server@1.8.1/core";
import { decodeProtectedHeader, type JWTPayload, jwtVerify } from "npm:jose@6.2.18";
import { ApiError } from "./errors.ts";
import type { Claims } from "./rpc.ts";

/** The name under which a project's legacy HS256 secret is given to the functions. */
const LEGACY_JWT_SECRET_ENV = "ONECART_JWT_SECRET";

const API_ROLES = new Set(["authenticated", "service_role"]);

function legacySecret(): Uint8Array | null {
  const value = Deno.env.get(LEGACY_JWT_SECRET_ENV);
  return value ? new TextEncoder().encode(value) : null;
}

function inlineJwksKids(): Set<string> | null {
  const raw = Deno.env.get("SUPABASE_JWKS");
  if (!raw?.trim()) return null;
  try {
    const parsed = JSON.parse(raw);
    const keys = Array.isArray(parsed) ? parsed : parsed?.keys;
    return new Set((Array.isArray(keys) ? keys : []).map((k: { kid?: unknown }) => String(k?.kid)));
  } catch {
    return null;
  }
}

/** The project's published key set, where the inline copy cannot know the token's key. */
function remoteJwks(kid: string | undefined): URL | undefined {
  const kids = inlineJwksKids();
  if (kids && kid && kids.has(kid)) return undefined; // the inline set has it
  const url = Deno.env.get("SUPABASE_URL");
  if (!kids || !url) return undefined; // no inline set: the library derives the URL itself
  const jwks = new URL(url);
  jwks.pathname = jwks.pathname.replace(/\/+$/, "") + "/auth/v1/.well-known/jwks.json";
  return jwks;
}

/** The payload of a correctly signed, unexpired token; throws otherwise. */
export async function verifyToken(token: string): Promise<JWTPayload> {
  const { alg, kid } = decodeProtectedHeader(token);
  const secret = legacySecret();
  let payload: JWTPayload | undefined;
  if (alg === "HS256" && secret) {
    try {
      payload = (await jwtVerify(token, secret, { algorithms: ["HS256"] })).payload;
    } catch (error) {
      if (!kid) throw error; // no key id: only the legacy secret could have signed it
    }
  }
  if (!payload) {
    const jwks = remoteJwks(kid);
    const { data, error } = await verifyCredentials(
      { token, apikey: null },
      { auth: "user", env: jwks ? { jwks } : undefined },
    );
    if (error) throw error;
    payload = data.jwtClaims as JWTPayload;
  }
  // Supabase Auth always sets exp; a token without one would never expire.
  if (typeof payload.exp !== "number") throw new Error("the token has no exp claim");
  return payload;
}

/** Whether `key` is one of the project's `sb_secret_…` keys. */
async function isSecretKey(key: string): Promise<boolean> {
  const { data } = await verifyCredentials({ token: null, apikey: key }, { auth: "secret:*" });
  return Boolean(data);
}

/** The claims of a valid staff or service_role caller; anything else is not_authenticated. */
export async function authenticate(request: Request): Promise<Claims> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  const apikey = request.headers.get("apikey");
  // As the Supabase gateway: an sb_ key in Authorization, or an apikey header
  // with no Authorization, decides the role by itself.
  const key = bearer?.startsWith("sb_") ? bearer : !bearer && apikey?.startsWith("sb_") ? apikey : null;
  if (key) {
    if (await isSecretKey(key)) return { role: "service_role" };
    throw new ApiError("not_authenticated", "Sign in as staff to use onecart; a publishable key identifies no one.");
  }
  if (!bearer) throw new ApiError("not_authenticated", "A Bearer token is required.");
  let payload: JWTPayload;
  try {
    payload = await verifyToken(bearer);
  } catch {
    throw new ApiError("not_authenticated", "The token is invalid or expired.");
  }
  const role = payload.role;
  if (typeof role !== "string" || !API_ROLES.has(role) || (role === "authenticated" && !payload.sub)) {
    throw new ApiError("not_authenticated", "Sign in as staff to use onecart.");
  }
  return payload as Claims;
}
