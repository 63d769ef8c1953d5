// The functions authenticate callers from what a hosted project provides
// (SUPABASE_JWKS, SUPABASE_URL, SUPABASE_SECRET_KEYS, SUPABASE_PUBLISHABLE_KEYS)
// plus the legacy secret under ONECART_JWT_SECRET, and every refusal carries the
// contract's 401 body.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@supabase/supabase-js";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apiKeys,
  LOCAL_PUBLISHABLE_KEY,
  LOCAL_SECRET_KEY,
  type RunningServer,
  staffToken,
  startServer,
} from "../../scripts/lib/stack.ts";
import { freshDatabase } from "../helpers/db.ts";
import { LOCATION_A1, LOCATION_B1, STAFF_A1 } from "../helpers/fixture.ts";
import { TEST_JWT_SECRET } from "../helpers/server.ts";
import { es256 } from "../helpers/tokens.ts";

type Key = { privateKey: CryptoKey; jwk: JWK };
async function signingKey(kid: string): Promise<Key> {
  const pair = await generateKeyPair("ES256", { extractable: true });
  return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: "ES256", use: "sig" } };
}

// The project's Auth, as far as its published key set goes: /auth/v1/.well-known/jwks.json.
let published: JWK[] = [];
let jwksFetches = 0;
let authServer: Server;
let server: RunningServer;
let keyBefore: Key;
let keyAfter: Key;
let stranger: Key;

beforeAll(async () => {
  [keyBefore, keyAfter, stranger] = await Promise.all([signingKey("key-1"), signingKey("key-2"), signingKey("key-3")]);
  authServer = createServer((req, res) => {
    if (req.url === "/auth/v1/.well-known/jwks.json") {
      jwksFetches++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: published }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => authServer.listen(0, "127.0.0.1", resolve));
  const db = await freshDatabase();
  // The functions started while the project signed with key-1: that is the set
  // injected as SUPABASE_JWKS.
  server = await startServer({
    dbUrl: db.url,
    jwtSecret: TEST_JWT_SECRET,
    env: {
      SUPABASE_URL: `http://127.0.0.1:${(authServer.address() as AddressInfo).port}`,
      SUPABASE_JWKS: JSON.stringify({ keys: [keyBefore.jwk] }),
    },
  });
});
afterAll(async () => {
  await server?.stop();
  authServer?.close();
});

async function call(headers: Record<string, string>, location = LOCATION_A1) {
  const res = await fetch(`${server.apiUrl}/functions/v1/carts?location_id=${location}`, { headers });
  return { status: res.status, body: await res.json() };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("user JWTs through the project's JWKS", () => {
  it("verifies with the injected key set without fetching it", async () => {
    expect((await call(bearer(await es256(keyBefore.privateKey, keyBefore.jwk.kid!)))).status).toBe(200);
    expect(jwksFetches).toBe(0);
  });

  it("fetches the published set when a token names a key id the injected set lacks (key rotation)", async () => {
    published = [keyBefore.jwk, keyAfter.jwk];
    expect((await call(bearer(await es256(keyAfter.privateKey, keyAfter.jwk.kid!)))).status).toBe(200);
    expect(jwksFetches).toBe(1);
    // Still the old key's tokens, from the injected set.
    expect((await call(bearer(await es256(keyBefore.privateKey, keyBefore.jwk.kid!)))).status).toBe(200);
  });

  it("refuses a key the project never published, and a forged key id", async () => {
    for (
      const token of [
        await es256(stranger.privateKey, stranger.jwk.kid!),
        await es256(stranger.privateKey, "key-2"),
        await es256(stranger.privateKey, "key-1"),
      ]
    ) {
      const { status, body } = await call(bearer(token));
      expect(status).toBe(401);
      expect(body.error.code).toBe("not_authenticated");
    }
  });

  it("still takes legacy HS256 tokens signed with ONECART_JWT_SECRET", async () => {
    expect((await call(bearer(await staffToken(TEST_JWT_SECRET, STAFF_A1)))).status).toBe(200);
  });
});

describe("API keys", () => {
  it("an sb_secret_ key acts as service_role, in Authorization or apikey, and through supabase-js", async () => {
    for (const headers of [bearer(LOCAL_SECRET_KEY), { apikey: LOCAL_SECRET_KEY }]) {
      // service_role reaches every store.
      for (const location of [LOCATION_A1, LOCATION_B1]) {
        const { status, body } = await call(headers, location);
        expect(status).toBe(200);
        expect(Array.isArray(body)).toBe(true);
      }
    }
    const integration = createClient(server.apiUrl, LOCAL_SECRET_KEY, { auth: { persistSession: false } });
    const { data, error } = await integration.functions.invoke(`carts?location_id=${LOCATION_B1}`, { method: "GET" });
    expect(error).toBeNull();
    expect(Array.isArray(data)).toBe(true);
  });

  it("a publishable key identifies no one: not_authenticated", async () => {
    for (
      const headers of [bearer(LOCAL_PUBLISHABLE_KEY), { apikey: LOCAL_PUBLISHABLE_KEY }, {
        ...bearer(LOCAL_PUBLISHABLE_KEY),
        apikey: LOCAL_PUBLISHABLE_KEY,
      }]
    ) {
      const { status, body } = await call(headers);
      expect(status).toBe(401);
      expect(body.error.code).toBe("not_authenticated");
    }
  });

  it("a made-up sb_secret_ key is not_authenticated", async () => {
    const { status, body } = await call(bearer("sb_secret_" + "x".repeat(32)));
    expect(status).toBe(401);
    expect(body.error.code).toBe("not_authenticated");
  });
});

describe("every bad credential gets the contract's 401 body", () => {
  it.each([
    ["no header", {}],
    ["not a JWT", bearer("not-a-jwt")],
    ["a wrong scheme", { authorization: "Basic abc" }],
  ])("%s", async (_, headers) => {
    const { status, body } = await call(headers as Record<string, string>);
    expect(status).toBe(401);
    expect(body).toEqual({ error: { code: "not_authenticated", message: expect.any(String), details: null } });
  });

  it("the legacy anon key, an expired or wrongly signed HS256 token, or one without exp", async () => {
    const now = Math.floor(Date.now() / 1000);
    const tokens = [
      (await apiKeys(TEST_JWT_SECRET)).anonKey,
      await staffToken(TEST_JWT_SECRET, STAFF_A1, -60),
      await staffToken("another-secret-of-at-least-32-characters!", STAFF_A1),
      await new SignJWT({ sub: STAFF_A1, role: "authenticated", aud: "authenticated", iat: now })
        .setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(TEST_JWT_SECRET)),
    ];
    for (const token of tokens) {
      const { status, body } = await call(bearer(token));
      expect(status).toBe(401);
      expect(body.error.code).toBe("not_authenticated");
    }
  });
});

describe("without an injected key set", () => {
  let remoteOnly: RunningServer;
  beforeAll(async () => {
    const db = await freshDatabase();
    remoteOnly = await startServer({
      dbUrl: db.url,
      jwtSecret: TEST_JWT_SECRET,
      env: { SUPABASE_URL: `http://127.0.0.1:${(authServer.address() as AddressInfo).port}`, SUPABASE_JWKS: "" },
    });
  });
  afterAll(() => remoteOnly?.stop());

  it("fetches the project's key set, and fetches it again for a key id it has not seen (rotation)", async () => {
    const status = async (token: string) => {
      const res = await fetch(`${remoteOnly.apiUrl}/functions/v1/carts?location_id=${LOCATION_A1}`, {
        headers: bearer(token),
      });
      await res.arrayBuffer();
      return res.status;
    };
    published = [keyBefore.jwk];
    const before = jwksFetches;
    expect(await status(await es256(keyBefore.privateKey, keyBefore.jwk.kid!))).toBe(200);
    expect(jwksFetches).toBe(before + 1);
    const fetchedAt = Date.now();
    published = [keyBefore.jwk, keyAfter.jwk];
    // jose (under @supabase/server) refetches for an unknown key id at most every
    // 30 s, so that forged key ids cannot flood the project's Auth.
    await new Promise((r) => setTimeout(r, Math.max(0, fetchedAt + 31_000 - Date.now())));
    expect(await status(await es256(keyAfter.privateKey, keyAfter.jwk.kid!))).toBe(200);
    expect(jwksFetches).toBe(before + 2);
    expect(await status(await es256(stranger.privateKey, stranger.jwk.kid!))).toBe(401);
  }, 120_000);
});
