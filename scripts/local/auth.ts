// /auth/v1/*: enough of Supabase Auth (GoTrue) for unmodified supabase-js on the
// local stack: password sign-in, refresh with rotation, getUser, signOut, and the
// admin create-user call. Same routes, bodies, error codes and tables (auth.users,
// auth.sessions, auth.refresh_tokens) as GoTrue, connected as GoTrue's role
// supabase_auth_admin. Access tokens are HS256 with the stack's JWT secret, the
// claims GoTrue puts in them, so the functions, /rest/v1 and Realtime verify them
// exactly as they verify a project's legacy tokens.
import postgres from "npm:postgres@3.4.9";
import { SignJWT } from "npm:jose@6.2.18";
import { verifyToken } from "../../functions/_shared/auth.ts";
import { apiKeyRole } from "./api-keys.ts";
import { RateLimiter } from "./rate-limit.ts";

const ACCESS_TOKEN_SECONDS = 3600;
// GoTrue's default GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL: a rotated token
// that is not the parent of the active one may still be swapped this long after
// its rotation (two tabs refreshing at once); later it is reuse.
const REFRESH_TOKEN_REUSE_SECONDS = 10;
// GoTrue's legacy (v1) refresh tokens, its default algorithm: crypto.SecureAlphanumeric(12).
const REFRESH_TOKEN_PATTERN = /^[a-z0-9]{12}$/;
const MIN_PASSWORD_LENGTH = 6;
const API_VERSION_HEADER = "x-supabase-api-version";
const API_VERSION_2024 = "2024-01-01";

// POST /token (password and refresh grants alike) is limited per IP by the
// limiter GoTrue calls Token: GOTRUE_RATE_LIMIT_TOKEN_REFRESH requests per five
// minutes (config.toml's [auth.rate_limit] token_refresh; GoTrue's default 150),
// with a burst of 30.
const TOKEN_LIMIT_DEFAULT_PER_5_MIN = 150;
const TOKEN_LIMIT_BURST = 30;
let tokenLimiter: RateLimiter | undefined;
function tokenLimit(): RateLimiter {
  const per5Min = Number(Deno.env.get("GOTRUE_RATE_LIMIT_TOKEN_REFRESH") ?? TOKEN_LIMIT_DEFAULT_PER_5_MIN);
  tokenLimiter ??= new RateLimiter(per5Min / (5 * 60), TOKEN_LIMIT_BURST);
  return tokenLimiter;
}

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type, x-supabase-api-version",
};

type Sql = ReturnType<typeof postgres>;
let pool: Sql | undefined;

/**
 * GoTrue's own connection: GOTRUE_DB_DATABASE_URL as GoTrue reads it, else the
 * stack's database as supabase_auth_admin (the local server trusts local users).
 */
function db(): Sql {
  if (!pool) {
    let url = Deno.env.get("GOTRUE_DB_DATABASE_URL");
    if (!url) {
      const derived = new URL(Deno.env.get("SUPABASE_DB_URL")!);
      derived.username = "supabase_auth_admin";
      url = derived.toString();
    }
    pool = postgres(url, { prepare: false, max: 4, idle_timeout: 30, onnotice: () => {} });
  }
  return pool;
}

export async function closeAuth(): Promise<void> {
  await pool?.end({ timeout: 1 });
}

class AuthError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** GoTrue's error body: `{code, message}` for clients on API version 2024-01-01 (supabase-js), else the first one. */
function errorReply(request: Request, error: AuthError): Response {
  const version = request.headers.get(API_VERSION_HEADER);
  if (version && version >= API_VERSION_2024) {
    return json(error.status, { code: error.code, message: error.message }, { [API_VERSION_HEADER]: API_VERSION_2024 });
  }
  return json(error.status, { code: error.status, error_code: error.code, msg: error.message });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...CORS, "content-type": "application/json", ...headers },
  });
}

interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  email_confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  created_at: Date | null;
  updated_at: Date | null;
  phone: string | null;
  banned_until: Date | null;
  is_anonymous: boolean;
}

const USER_COLUMNS = `id, aud, role, email, email_confirmed_at, last_sign_in_at, raw_app_meta_data,
  raw_user_meta_data, created_at, updated_at, phone, banned_until, is_anonymous`;

function iso(value: Date | null): string | undefined {
  return value ? value.toISOString() : undefined;
}

/** The user as GoTrue serializes it. */
function userJson(u: UserRow) {
  return {
    id: u.id,
    aud: u.aud ?? "authenticated",
    role: u.role ?? "authenticated",
    email: u.email ?? "",
    email_confirmed_at: iso(u.email_confirmed_at),
    phone: u.phone ?? "",
    confirmed_at: iso(u.email_confirmed_at),
    last_sign_in_at: iso(u.last_sign_in_at),
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    identities: [],
    created_at: iso(u.created_at),
    updated_at: iso(u.updated_at),
    is_anonymous: u.is_anonymous,
  };
}

/** The project's JWT secret, under the name GoTrue reads it by. */
function secret(): Uint8Array {
  return new TextEncoder().encode(Deno.env.get("GOTRUE_JWT_SECRET")!);
}

/** GoTrue's v1 refresh token: 12 characters of lower-case base32. */
function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => "abcdefghijklmnopqrstuvwxyz234567"[b % 32]).join("");
}

async function accessToken(user: UserRow, sessionId: string, signedInAt: number) {
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = now + ACCESS_TOKEN_SECONDS;
  const token = await new SignJWT({
    sub: user.id,
    aud: user.aud ?? "authenticated",
    role: user.role ?? "authenticated",
    email: user.email ?? "",
    phone: user.phone ?? "",
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    aal: "aal1",
    amr: [{ method: "password", timestamp: signedInAt }],
    session_id: sessionId,
    is_anonymous: user.is_anonymous,
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(`${Deno.env.get("SUPABASE_URL") ?? ""}/auth/v1`)
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .sign(secret());
  return { token, expiresAt };
}

async function sessionResponse(user: UserRow, sessionId: string, refreshToken: string, signedInAt: number) {
  const { token, expiresAt } = await accessToken(user, sessionId, signedInAt);
  return {
    access_token: token,
    token_type: "bearer",
    expires_in: ACCESS_TOKEN_SECONDS,
    expires_at: expiresAt,
    refresh_token: refreshToken,
    user: userJson(user),
  };
}

async function body(request: Request): Promise<Record<string, unknown>> {
  try {
    const value = await request.json();
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  throw new AuthError(400, "bad_json", "Could not parse request body as JSON");
}

async function passwordGrant(request: Request): Promise<Response> {
  const params = await body(request);
  const email = typeof params.email === "string" ? params.email.trim().toLowerCase() : "";
  const password = typeof params.password === "string" ? params.password : "";
  if (!email) throw new AuthError(400, "validation_failed", "missing email or phone");
  const sql = db();
  const result = await sql.begin(async (tx) => {
    const [user] = await tx.unsafe<(UserRow & { password_ok: boolean | null })[]>(
      `select ${USER_COLUMNS}, encrypted_password = extensions.crypt($2, encrypted_password) as password_ok
         from auth.users where lower(email) = $1 and deleted_at is null`,
      [email, password],
    );
    // GoTrue's order (internal/api/token.go, ResourceOwnerPasswordGrant): an
    // unknown user or one without a password, then a ban, then the password,
    // then the confirmation. A banned user learns of the ban whatever the password.
    if (!user || user.password_ok === null) {
      throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
    }
    if (user.banned_until && user.banned_until > new Date()) throw new AuthError(400, "user_banned", "User is banned");
    if (!user.password_ok) throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
    if (!user.email_confirmed_at) throw new AuthError(400, "email_not_confirmed", "Email not confirmed");
    const sessionId = crypto.randomUUID();
    const refreshToken = randomToken();
    await tx.unsafe(
      `insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent)
                     values ($1, $2, now(), now(), 'aal1', $3)`,
      [sessionId, user.id, request.headers.get("user-agent")],
    );
    await tx.unsafe(
      `insert into auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, session_id)
                     values ($1, $2, false, now(), now(), $3)`,
      [refreshToken, user.id, sessionId],
    );
    const [signedIn] = await tx.unsafe<UserRow[]>(
      `update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1 returning ${USER_COLUMNS}`,
      [user.id],
    );
    return { user: signedIn, sessionId, refreshToken };
  });
  return json(
    200,
    await sessionResponse(result.user, result.sessionId, result.refreshToken, Math.floor(Date.now() / 1000)),
  );
}

async function refreshGrant(request: Request): Promise<Response> {
  const params = await body(request);
  const presented = typeof params.refresh_token === "string" ? params.refresh_token : "";
  // As RefreshTokenGrantParams.Validate (internal/api/token_refresh.go): the
  // token's shape is checked before any lookup. Only v1 tokens are issued here,
  // so anything else is what GoTrue fails to parse.
  if (!REFRESH_TOKEN_PATTERN.test(presented)) {
    throw new AuthError(400, "validation_failed", "Refresh token is not valid");
  }
  const notFound = new AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
  const result = await db().begin(async (tx) => {
    const [token] = await tx.unsafe<
      { id: string; token: string; revoked: boolean; session_id: string; user_id: string; reusable: boolean }[]
    >(
      `select id, token, revoked, session_id, user_id,
              now() <= updated_at + make_interval(secs => $2::int) as reusable
         from auth.refresh_tokens where token = $1 for update`,
      [presented, REFRESH_TOKEN_REUSE_SECONDS],
    );
    if (!token) throw notFound;
    // As GoTrue's RefreshTokenGrant: a banned user is refused before anything
    // about the session is looked at, so nothing is rotated or revoked.
    const [owner] = await tx.unsafe<{ banned_until: Date | null }[]>(
      `select banned_until from auth.users where id = $1::uuid and deleted_at is null`,
      [token.user_id],
    );
    if (owner?.banned_until && owner.banned_until > new Date()) {
      throw new AuthError(400, "user_banned", "Invalid Refresh Token: User Banned");
    }
    // One refresh at a time per session, as GoTrue locks the session row.
    const [session] = token.session_id
      ? await tx.unsafe<{ created_at: Date }[]>(`select created_at from auth.sessions where id = $1 for update`, [
        token.session_id,
      ])
      : [];
    if (!session) throw new AuthError(400, "session_not_found", "Invalid Refresh Token: No Valid Session Found");
    // internal/tokens/service.go, RefreshTokenGrant, for v1 tokens.
    let next: string | undefined;
    if (token.revoked) {
      const [active] = await tx.unsafe<{ token: string; parent: string | null }[]>(
        `select token, parent from auth.refresh_tokens
          where session_id = $1 and not revoked order by id desc limit 1`,
        [token.session_id],
      );
      if (active && active.parent === token.token) {
        // The parent of the active token: the client lost or failed to save the
        // last refresh's answer. It gets the active token back, at any age.
        next = active.token;
      } else if (!token.reusable) {
        // Reuse: every token of the session is revoked (the session and its
        // access tokens stay until they expire), and that is committed.
        await tx.unsafe(
          `update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and not revoked`,
          [token.session_id],
        );
        return { reused: true as const };
      }
      // Otherwise, inside the reuse interval, it is swapped like an active token.
    }
    if (next === undefined) {
      next = randomToken();
      await tx.unsafe(`update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1`, [token.id]);
      await tx.unsafe(
        `insert into auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, parent, session_id)
         values ($1, $2, false, now(), now(), $3, $4)`,
        [next, token.user_id, token.token, token.session_id],
      );
    }
    await tx.unsafe(`update auth.sessions set refreshed_at = now(), updated_at = now() where id = $1`, [
      token.session_id,
    ]);
    const [user] = await tx.unsafe<UserRow[]>(
      `select ${USER_COLUMNS} from auth.users where id = $1::uuid and deleted_at is null`,
      [token.user_id],
    );
    if (!user) throw notFound;
    return { reused: false as const, user, sessionId: token.session_id, next, since: session.created_at };
  });
  if (result.reused) throw new AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
  return json(
    200,
    await sessionResponse(result.user, result.sessionId, result.next, Math.floor(result.since.getTime() / 1000)),
  );
}

/** GoTrue's requireAuthentication: a valid token whose user and session still exist. */
async function authenticatedUser(request: Request): Promise<{ user: UserRow; sessionId: string | null }> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!bearer) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
  let claims: Record<string, unknown>;
  try {
    claims = await verifyToken(bearer);
  } catch (error) {
    throw new AuthError(
      403,
      "bad_jwt",
      `invalid JWT: unable to parse or verify signature, ${(error as Error).message}`,
    );
  }
  if (
    typeof claims.sub !== "string" ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(claims.sub)
  ) {
    throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
  }
  const sql = db();
  const [user] = await sql.unsafe<UserRow[]>(
    `select ${USER_COLUMNS} from auth.users where id = $1 and deleted_at is null`,
    [claims.sub],
  );
  if (!user) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
  const sessionId = typeof claims.session_id === "string" ? claims.session_id : null;
  if (sessionId) {
    const [session] = await sql.unsafe(`select 1 from auth.sessions where id = $1`, [sessionId]);
    if (!session) throw new AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
  }
  return { user, sessionId };
}

async function logout(request: Request, url: URL): Promise<Response> {
  const { user, sessionId } = await authenticatedUser(request);
  const scope = url.searchParams.get("scope") ?? "global";
  const sql = db();
  if (scope === "local" && sessionId) {
    await sql.unsafe(`delete from auth.sessions where id = $1`, [sessionId]);
  } else if (scope === "others") {
    await sql.unsafe(`delete from auth.sessions where user_id = $1 and id is distinct from $2::uuid`, [
      user.id,
      sessionId,
    ]);
  } else if (scope === "global" || scope === "local") {
    await sql.unsafe(`delete from auth.sessions where user_id = $1`, [user.id]);
  } else {
    throw new AuthError(400, "validation_failed", `Unsupported logout scope "${scope}"`);
  }
  return new Response(null, { status: 204, headers: CORS });
}

/** GoTrue's requireAdmin: a service_role (or supabase_admin) token, or the gateway's sb_secret key. */
async function requireAdmin(request: Request): Promise<void> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!bearer) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
  if (bearer.startsWith("sb_")) {
    if (await apiKeyRole(bearer) === "service_role") return;
    throw new AuthError(403, "not_admin", "User not allowed");
  }
  let claims: Record<string, unknown>;
  try {
    claims = await verifyToken(bearer);
  } catch (error) {
    throw new AuthError(
      403,
      "bad_jwt",
      `invalid JWT: unable to parse or verify signature, ${(error as Error).message}`,
    );
  }
  if (claims.role !== "service_role" && claims.role !== "supabase_admin") {
    throw new AuthError(403, "not_admin", "User not allowed");
  }
}

async function adminCreateUser(request: Request): Promise<Response> {
  await requireAdmin(request);
  const params = await body(request);
  const email = typeof params.email === "string" ? params.email.trim().toLowerCase() : "";
  const password = typeof params.password === "string" ? params.password : null;
  if (!email) throw new AuthError(400, "validation_failed", "Email is required");
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    throw new AuthError(400, "validation_failed", "Unable to validate email address: invalid format");
  }
  if (password !== null && password.length < MIN_PASSWORD_LENGTH) {
    throw new AuthError(422, "weak_password", `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  const userMeta = isObject(params.user_metadata) ? params.user_metadata : {};
  const appMeta = {
    ...(isObject(params.app_metadata) ? params.app_metadata : {}),
    provider: "email",
    providers: ["email"],
  };
  const id = typeof params.id === "string" ? params.id : crypto.randomUUID();
  const confirmed = params.email_confirm === true;
  try {
    const [user] = await db().unsafe<UserRow[]>(
      `insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at,
                               raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
       values ($1::uuid, 'authenticated', coalesce($2::text, 'authenticated'), $3::text,
               case when $4::text is null then null else extensions.crypt($4::text, extensions.gen_salt('bf', 10)) end,
               case when $5::boolean then now() end, $6::jsonb, $7::jsonb, now(), now())
       returning ${USER_COLUMNS}`,
      [
        id,
        typeof params.role === "string" ? params.role : null,
        email,
        password,
        confirmed,
        JSON.stringify(appMeta),
        JSON.stringify(userMeta),
      ],
    );
    return json(200, userJson(user));
  } catch (error) {
    if ((error as { code?: string }).code === "23505") {
      throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
    }
    if ((error as { code?: string }).code === "22P02") throw new AuthError(400, "validation_failed", "Invalid user id");
    throw error;
  }
}

async function adminGetUser(request: Request, id: string): Promise<Response> {
  await requireAdmin(request);
  const [user] = await db().unsafe<UserRow[]>(`select ${USER_COLUMNS} from auth.users where id = $1`, [id]);
  if (!user) throw new AuthError(404, "user_not_found", "User not found");
  return json(200, userJson(user));
}

async function adminDeleteUser(request: Request, id: string): Promise<Response> {
  await requireAdmin(request);
  const [deleted] = await db().unsafe(`delete from auth.users where id = $1 returning id`, [id]);
  if (!deleted) throw new AuthError(404, "user_not_found", "User not found");
  return json(200, {});
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `clientIp` is the caller's address, the key GoTrue limits by (the gateway forwards it). */
export async function handleAuth(request: Request, pathname: string, clientIp: string): Promise<Response> {
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
  const url = new URL(request.url);
  const route = `${request.method} ${pathname.replace(/^\/auth\/v1/, "").replace(/\/+$/, "")}`;
  try {
    switch (route) {
      case "GET /health":
        return json(200, {
          version: "onecart-local",
          name: "GoTrue",
          description: "onecart's local stand-in for Supabase Auth",
        });
      case "GET /.well-known/jwks.json":
        // GoTrue publishes only asymmetric public keys; the local stack signs with
        // the HS256 secret, so there are none.
        return json(200, { keys: [] });
      case "POST /token": {
        // As GoTrue's Token (internal/api/token.go): the grant is known, then the
        // limit is taken, then the grant runs.
        const grant = url.searchParams.get("grant_type");
        if (grant !== "password" && grant !== "refresh_token") {
          throw new AuthError(400, "invalid_credentials", "unsupported_grant_type");
        }
        if (!tokenLimit().take(clientIp)) {
          throw new AuthError(429, "over_request_rate_limit", "Request rate limit reached");
        }
        return grant === "password" ? await passwordGrant(request) : await refreshGrant(request);
      }
      case "GET /user":
        return json(200, userJson((await authenticatedUser(request)).user));
      case "POST /logout":
        return await logout(request, url);
      case "POST /admin/users":
        return await adminCreateUser(request);
      default: {
        const byId = /^(GET|DELETE) \/admin\/users\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i
          .exec(route);
        if (byId?.[1] === "GET") return await adminGetUser(request, byId[2]);
        if (byId?.[1] === "DELETE") return await adminDeleteUser(request, byId[2]);
        throw new AuthError(404, "not_found", "The local Auth does not serve this route");
      }
    }
  } catch (error) {
    if (error instanceof AuthError) return errorReply(request, error);
    console.error(JSON.stringify({ level: "error", auth: route, error: String(error) }));
    return errorReply(
      request,
      new AuthError(500, "unexpected_failure", "Unexpected failure, please check server logs for more information"),
    );
  }
}
