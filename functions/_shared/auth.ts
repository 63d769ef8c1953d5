// Verifies the caller's Supabase JWT. HS256 with the project's JWT secret (the
// local stack, legacy projects), or asymmetric keys from the project's JWKS
// (SUPABASE_JWKS holds the JSON, or it is fetched from SUPABASE_URL).
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
} from "npm:jose@6.2.18";
import { ApiError } from "./errors.ts";
import type { Claims } from "./rpc.ts";

const API_ROLES = new Set(["authenticated", "service_role"]);

let jwks: JWTVerifyGetKey | null | undefined;
function projectJwks(): JWTVerifyGetKey | null {
  if (jwks === undefined) {
    const inline = Deno.env.get("SUPABASE_JWKS");
    const url = Deno.env.get("SUPABASE_URL");
    jwks = inline
      ? createLocalJWKSet(JSON.parse(inline))
      : url
      ? createRemoteJWKSet(new URL("/auth/v1/.well-known/jwks.json", url))
      : null;
  }
  return jwks;
}

function secret(): Uint8Array | null {
  const value = Deno.env.get("SUPABASE_JWT_SECRET") ?? Deno.env.get("JWT_SECRET");
  return value ? new TextEncoder().encode(value) : null;
}

/** The payload of a correctly signed, unexpired token; throws otherwise. */
export async function verifyToken(token: string): Promise<JWTPayload> {
  const { alg } = decodeProtectedHeader(token);
  if (alg === "HS256") {
    const key = secret();
    if (!key) throw new Error("HS256 token but no JWT secret configured");
    return (await jwtVerify(token, key, { algorithms: ["HS256"], requiredClaims: ["exp"] })).payload;
  }
  const keys = projectJwks();
  if (!keys) throw new Error(`${alg} token but no JWKS configured`);
  return (await jwtVerify(token, keys, { algorithms: ["ES256", "RS256", "EdDSA"], requiredClaims: ["exp"] }))
    .payload;
}

/** The claims of a valid staff or service_role token; anything else is not_authenticated. */
export async function authenticate(request: Request): Promise<Claims> {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new ApiError("not_authenticated", "A Bearer token is required.");
  let payload: JWTPayload;
  try {
    payload = await verifyToken(match[1]);
  } catch {
    throw new ApiError("not_authenticated", "The token is invalid or expired.");
  }
  const role = payload.role;
  if (typeof role !== "string" || !API_ROLES.has(role) || (role === "authenticated" && !payload.sub)) {
    throw new ApiError("not_authenticated", "Sign in as staff to use onecart.");
  }
  return payload as Claims;
}
