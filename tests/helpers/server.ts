// The local Deno server (functions + Realtime) over a test file's own database,
// and supabase-js clients for it, as a POS device would make them.
import { afterAll, expect } from "vitest";
import { createClient, type SupabaseClient, type SupabaseClientOptions } from "@supabase/supabase-js";
import { apiKeys, type RunningServer, staffToken, startServer } from "../../scripts/lib/stack.ts";
import type { TestDatabase } from "./db.ts";

export const TEST_JWT_SECRET = "onecart-tests-jwt-secret-of-at-least-32-chars";

export interface TestServer {
  apiUrl: string;
  /** The Deno process, to prove it is still running. */
  process: RunningServer["process"];
  anonKey: string;
  serviceRoleKey: string;
  /** Every line the server printed, for the request log assertions. */
  output: string[];
  token(userId: string, ttlSeconds?: number): Promise<string>;
  /** A supabase-js client whose access token is `token` (or whatever the function returns now). */
  client(token: string | (() => string), options?: SupabaseClientOptions<"public">): SupabaseClient;
  /** fetch against /functions/v1 with a Bearer token and JSON. */
  call(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
}

/** `env` adds to the server's environment, e.g. ONECART_DB_POOL_SIZE. */
export async function startTestServer(
  db: Pick<TestDatabase, "url">,
  opts: { env?: Record<string, string> } = {},
): Promise<TestServer> {
  const output: string[] = [];
  const server = await startServer({
    dbUrl: db.url,
    jwtSecret: TEST_JWT_SECRET,
    env: opts.env,
    onOutput: (text) => output.push(...text.split("\n").filter(Boolean)),
  });
  const clients: SupabaseClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.removeAllChannels()));
    await server.stop();
  });
  const { anonKey, serviceRoleKey } = await apiKeys(TEST_JWT_SECRET);
  return {
    apiUrl: server.apiUrl,
    process: server.process,
    anonKey,
    serviceRoleKey,
    output,
    token: (userId, ttl = 3600) => staffToken(TEST_JWT_SECRET, userId, ttl),
    client(token, options = {}) {
      const current = typeof token === "function" ? token : () => token;
      const client = createClient(server.apiUrl, anonKey, { ...options, accessToken: async () => current() });
      clients.push(client);
      return client;
    },
    async call(method, path, { token, body, headers = {} } = {}) {
      const response = await fetch(`${server.apiUrl}/functions/v1${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
    },
  };
}

/** The contract's error answer: this status, this code, a message and details. */
export function expectApiError(res: { status: number; body: any }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }, JSON.stringify(res.body)).toEqual({ status, code });
  expect(res.body.error.message).toEqual(expect.any(String));
  expect(res.body.error).toHaveProperty("details");
}

/** A new device cart through the functions (POST /carts), as a POS opens one. */
export async function openCart(
  server: TestServer,
  token: string,
  opts: { location: string; device: string },
): Promise<{ id: string; version: number } & Record<string, any>> {
  const res = await server.call("POST", "/carts", {
    token,
    body: { location_id: opts.location, device_id: opts.device },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}
