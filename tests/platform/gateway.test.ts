// The Supabase API gateway's key check, which the local stack applies as a
// project does: /rest/v1, /auth/v1 and /realtime/v1 answer 401 without one of
// the project's API keys, before the service behind them runs; edge functions,
// CORS preflights and Auth's open routes are not behind it.
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase } from "../helpers/db.ts";
import { LOCATION_A1, STAFF_A1 } from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY, signToken } from "../../scripts/lib/stack.ts";

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer(await freshDatabase());
  token = await server.token(STAFF_A1);
});

const NO_KEY = { message: "No API key found in request", hint: "No `apikey` request header or url param was found." };
const BAD_KEY = { message: "Invalid API key", hint: "Double check your Supabase `anon` or `service_role` API key." };

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${server.apiUrl}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const rpc = (headers: Record<string, string>) =>
  call("/rest/v1/rpc/get_staff_home", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: "{}",
  });

describe("the API gateway's key check", () => {
  it("refuses /rest/v1 without a key, even with a valid staff token, and with a key not the project's", async () => {
    expect(await rpc({ authorization: `Bearer ${token}` })).toEqual({ status: 401, body: NO_KEY });
    expect(await rpc({ authorization: `Bearer ${token}`, apikey: "not-a-key" })).toEqual({
      status: 401,
      body: BAD_KEY,
    });
    expect(await rpc({ authorization: `Bearer ${token}`, apikey: "sb_publishable_not-this-project" })).toEqual({
      status: 401,
      body: BAD_KEY,
    });
    // A user's token is not a key, even with the user's own Authorization beside it.
    expect(await rpc({ authorization: `Bearer ${token}`, apikey: token })).toEqual({ status: 401, body: BAD_KEY });
    // A JWT some other project signed is not this project's key.
    const foreign = await signToken("another-projects-secret-of-at-least-32-chars", { role: "anon" }, 3600);
    expect(await rpc({ authorization: `Bearer ${token}`, apikey: foreign })).toEqual({ status: 401, body: BAD_KEY });
  });

  it("lets /rest/v1 through with the anon, service_role, publishable or secret key", async () => {
    for (const apikey of [server.anonKey, server.serviceRoleKey, LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY]) {
      const res = await rpc({ authorization: `Bearer ${token}`, apikey });
      expect(res.status, apikey.slice(0, 16)).toBe(200);
    }
    // In the URL, as some clients send it.
    const res = await call(`/rest/v1/rpc/get_staff_home?apikey=${server.anonKey}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
  });

  it("refuses /auth/v1 without a key, but serves its open routes and every preflight", async () => {
    const signIn = (headers: Record<string, string>) =>
      call("/auth/v1/token?grant_type=password", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ email: "nobody@example.com", password: "x" }),
      });
    expect(await signIn({})).toEqual({ status: 401, body: NO_KEY });
    // With the key, Auth itself answers (here: wrong credentials).
    expect((await signIn({ apikey: server.anonKey })).status).toBe(400);
    expect((await call("/auth/v1/.well-known/jwks.json")).status).toBe(200);
    const preflight = await fetch(`${server.apiUrl}/auth/v1/token?grant_type=password`, { method: "OPTIONS" });
    await preflight.arrayBuffer();
    expect(preflight.status).toBe(204);
  });

  it("refuses a Realtime socket without a key before it opens", async () => {
    const ws = `${server.apiUrl.replace("http", "ws")}/realtime/v1/websocket?vsn=2.0.0`;
    const opened = (url: string) =>
      new Promise<boolean>((resolve) => {
        const socket = new WebSocket(url);
        socket.onopen = () => {
          socket.close();
          resolve(true);
        };
        socket.onerror = () => resolve(false);
      });
    expect(await opened(ws)).toBe(false);
    expect(await opened(`${ws}&apikey=not-a-key`)).toBe(false);
    expect(await opened(`${ws}&apikey=${server.anonKey}`)).toBe(true);
  });

  it("does not stand in front of edge functions", async () => {
    const res = await server.call("POST", "/carts", {
      token,
      body: { location_id: LOCATION_A1, device_id: "gateway" },
    });
    expect(res.status).toBe(200);
  });
});
