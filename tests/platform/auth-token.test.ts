// The local Auth against GoTrue's current rules (internal/tokens/service.go,
// internal/api/token.go, token_refresh.go, apilimiter): refresh-token reuse,
// reuse detection, the shape of a refresh token, a ban before the password, and
// the per-IP limit on POST /token that supabase/config.toml sets.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { beforeAll, describe, expect, it } from "vitest";
import { authRateLimitEnv } from "../../scripts/lib/stack.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, STAFF_A2 } from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { until } from "../helpers/until.ts";

const PASSWORD = "onecart-local";
let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
});

function client(options: { storage?: Map<string, string>; fetch?: typeof fetch } = {}): SupabaseClient {
  const { storage, fetch: customFetch } = options;
  return createClient(server.apiUrl, server.anonKey, {
    auth: {
      autoRefreshToken: false,
      persistSession: !!storage,
      ...(storage
        ? {
          storage: {
            getItem: (k: string) => storage.get(k) ?? null,
            setItem: (k: string, v: string) => void storage.set(k, v),
            removeItem: (k: string) => void storage.delete(k),
          },
        }
        : {}),
    },
    ...(customFetch ? { global: { fetch: customFetch } } : {}),
  });
}

async function signIn(email = "ana@blowing-rock.example") {
  const { data, error } = await client().auth.signInWithPassword({ email, password: PASSWORD });
  expect(error).toBeNull();
  return data.session!;
}

async function refresh(refreshToken: string) {
  return await client().auth.refreshSession({ refresh_token: refreshToken });
}

/** The time that passes for a till between two refreshes, without waiting for it. */
async function age(refreshToken: string) {
  await db.admin()`update auth.refresh_tokens set updated_at = now() - interval '1 minute'
                    where token = ${refreshToken}`;
}

async function postToken(grant: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.apiUrl}/auth/v1/token?grant_type=${grant}`, {
    method: "POST",
    headers: { "content-type": "application/json", apikey: server.anonKey, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe("refresh-token reuse", () => {
  it("the parent of the active token gets the active session back, however long after", async () => {
    const first = await signIn();
    const second = (await refresh(first.refresh_token)).data.session!;
    await age(first.refresh_token);

    const again = await refresh(first.refresh_token);
    expect(again.error).toBeNull();
    expect(again.data.session!.refresh_token).toBe(second.refresh_token);
    // Nothing was rotated: the active token is still the active one.
    const next = await refresh(second.refresh_token);
    expect(next.error).toBeNull();
    expect(next.data.session!.refresh_token).not.toBe(second.refresh_token);
  });

  it("a till whose refresh answer was lost recovers its session through supabase-js", async () => {
    const storage = new Map<string, string>();
    const till = client({ storage });
    expect((await till.auth.signInWithPassword({ email: "ana@blowing-rock.example", password: PASSWORD })).error)
      .toBeNull();
    const stored = (await till.auth.getSession()).data.session!;

    // The refresh reaches Auth, which rotates the token; the till is closed
    // before the answer arrives, so what it saved is the token it sent.
    let sent = false;
    const losing = client({
      storage,
      fetch: async (input, init) => {
        await fetch(input, init);
        sent = true;
        return await new Promise<Response>(() => {});
      },
    });
    void losing.auth.refreshSession();
    await until(() => sent, "the refresh is answered, to nobody");
    const [{ revoked }] = await db.admin()`select revoked from auth.refresh_tokens
                                           where token = ${stored.refresh_token}`;
    expect(revoked).toBe(true);
    await age(stored.refresh_token);

    // Opened again, the till refreshes with what it saved and goes on.
    const reopened = client({ storage });
    const recovered = await reopened.auth.refreshSession();
    expect(recovered.error).toBeNull();
    expect(recovered.data.session!.user.id).toBe(stored.user.id);
    const carts = await server.call("GET", `/carts?location_id=${LOCATION_A1}`, {
      token: recovered.data.session!.access_token,
    });
    expect(carts.status).toBe(200);
  });

  it("a revoked token that is not the active one's parent is swapped inside the reuse interval", async () => {
    // Two tabs refreshing at once: the older one still gets a session.
    const first = await signIn();
    const second = (await refresh(first.refresh_token)).data.session!;
    await refresh(second.refresh_token);
    const swapped = await refresh(first.refresh_token);
    expect(swapped.error).toBeNull();
    expect(swapped.data.session!.refresh_token).toMatch(/^[a-z0-9]{12}$/);
  });

  it("any other reuse revokes every token of the session, which the holder of the newest learns", async () => {
    const first = await signIn("ben@blowing-rock.example");
    const second = (await refresh(first.refresh_token)).data.session!;
    const third = (await refresh(second.refresh_token)).data.session!;
    await age(first.refresh_token);

    const reuse = await refresh(first.refresh_token);
    expect(reuse.error).toMatchObject({ status: 400, code: "refresh_token_already_used" });
    const tokens = await db.admin()`select bool_and(revoked) as all_revoked, count(*)::int as n
                                      from auth.refresh_tokens
                                     where session_id = (select session_id from auth.refresh_tokens
                                                          where token = ${third.refresh_token})`;
    expect(tokens[0]).toEqual({ all_revoked: true, n: 3 });
    await age(third.refresh_token);
    const stolen = await refresh(third.refresh_token);
    expect(stolen.error).toMatchObject({ status: 400, code: "refresh_token_already_used" });
  });

  it("a refresh token of the wrong shape is validation_failed before any lookup", async () => {
    for (const token of ["short", "ABCDEFGHIJKL", "abcdefghijklmnopqrstuvwxyz", "abc-defghijk"]) {
      const raw = await postToken("refresh_token", { refresh_token: token }, {
        "x-supabase-api-version": "2024-01-01",
      });
      expect({ token, ...raw }).toEqual({
        token,
        status: 400,
        body: { code: "validation_failed", message: "Refresh token is not valid" },
      });
    }
    const unknown = await refresh("abcdefghijkl");
    expect(unknown.error).toMatchObject({ status: 400, code: "refresh_token_not_found" });
  });
});

describe("the password grant", () => {
  it("a banned user learns of the ban whatever the password", async () => {
    const admin = db.admin();
    await admin`update auth.users set banned_until = now() + interval '1 hour' where id = ${STAFF_A2}`;
    try {
      const { error } = await client().auth.signInWithPassword({
        email: "ben@blowing-rock.example",
        password: "not-the-password",
      });
      expect(error).toMatchObject({ status: 400, code: "user_banned" });
    } finally {
      await admin`update auth.users set banned_until = null where id = ${STAFF_A2}`;
    }
  });
});

describe("the /token rate limit", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer(db);
  });

  it("is config.toml's token_refresh per five minutes", () => {
    expect(authRateLimitEnv()).toEqual({ GOTRUE_RATE_LIMIT_TOKEN_REFRESH: "150" });
  });

  it("answers 429 over_request_rate_limit past GoTrue's burst of 30, for sign-ins and refreshes from one IP", async () => {
    const post = (grant: string, body: unknown, headers: Record<string, string>) =>
      fetch(`${limited.apiUrl}/auth/v1/token?grant_type=${grant}`, {
        method: "POST",
        // A caller cannot pick its own key: the limit is by the address the gateway saw.
        headers: { "content-type": "application/json", apikey: limited.anonKey, ...headers },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const v2024 = { "x-supabase-api-version": "2024-01-01" };
    const signIns = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post("password", { email: "nobody@blowing-rock.example", password: "x" }, {
          ...v2024,
          "x-forwarded-for": `10.0.0.${i}`,
        })),
    );
    expect(signIns.filter((r) => r.status === 400).length).toBeGreaterThanOrEqual(30);
    const over = signIns.filter((r) => r.status === 429);
    expect(over.length).toBeGreaterThan(0);
    expect(over[0].body).toEqual({ code: "over_request_rate_limit", message: "Request rate limit reached" });

    const refreshes = await Promise.all(
      Array.from({ length: 10 }, () => post("refresh_token", { refresh_token: "abcdefghijkl" }, {})),
    );
    const refused = refreshes.find((r) => r.status === 429);
    expect(refused?.body).toEqual({
      code: 429,
      error_code: "over_request_rate_limit",
      msg: "Request rate limit reached",
    });

    const viaJs = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          createClient(limited.apiUrl, limited.anonKey, { auth: { persistSession: false } }).auth
            .signInWithPassword({ email: "ana@blowing-rock.example", password: PASSWORD }),
      ),
    );
    expect(viaJs.map((r) => r.error).find(Boolean)).toMatchObject({ status: 429, code: "over_request_rate_limit" });
  });
});
