// What the Supabase API gateway asks of a request before the REST, Auth and
// Realtime services see it: an API key, in the `apikey` header or URL
// parameter (supabase-js sends both kinds), that is one of the project's. A
// project answers a request without one 401 before PostgREST, Auth or Realtime
// run, so the local stack does too: a client that forgets its key fails here
// as it would there. Edge functions are not behind this check on a project,
// and CORS preflights pass before it.
import { verifyToken } from "../../functions/_shared/auth.ts";
import { apiKeyRole } from "./api-keys.ts";

/** Auth routes a project serves without a key: links opened from email, OAuth, the published key set. */
const OPEN_AUTH_ROUTES = new Set([
  "/auth/v1/verify",
  "/auth/v1/callback",
  "/auth/v1/authorize",
  "/auth/v1/.well-known/jwks.json",
]);

const INVALID_KEY = "Invalid API key";
const INVALID_KEY_HINT = "Double check your Supabase `anon` or `service_role` API key.";

function refuse(message: string, hint: string): Response {
  return new Response(JSON.stringify({ message, hint }), {
    status: 401,
    headers: { "content-type": "application/json", "access-control-allow-origin": "*" },
  });
}

/** The gateway's refusal for this request, or null when it may pass. */
export async function gatewayRefusal(request: Request, url: URL): Promise<Response | null> {
  if (request.method === "OPTIONS") return null;
  if (!/^\/(rest|auth|realtime)\/v1\//.test(url.pathname)) return null;
  if (OPEN_AUTH_ROUTES.has(url.pathname.replace(/\/+$/, ""))) return null;
  const key = request.headers.get("apikey") ?? url.searchParams.get("apikey");
  if (!key) return refuse("No API key found in request", "No `apikey` request header or url param was found.");
  // A publishable or secret key is never a bearer token on its own: in
  // Authorization it passes only as the very key of `apikey` (supabase-js sends
  // both), so a secret key cannot ride beside another key into the API.
  const bearer = /^Bearer\s+(sb_\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (bearer && bearer !== key) return refuse(INVALID_KEY, INVALID_KEY_HINT);
  if (key.startsWith("sb_") ? await apiKeyRole(key) : await signedByProject(key)) return null;
  return refuse(INVALID_KEY, INVALID_KEY_HINT);
}

/**
 * A legacy key is the anon or service_role JWT the project signed. A user's
 * access token is not a key: a project's gateway matches the keys it issued,
 * so a client that passes its user's token as the key fails there, and here.
 * What the request may do is decided by its Authorization, as ever.
 */
async function signedByProject(key: string): Promise<boolean> {
  try {
    const claims = await verifyToken(key);
    return claims.role === "anon" || claims.role === "service_role";
  } catch {
    return false;
  }
}
