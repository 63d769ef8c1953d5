// The gateway's rule for the publishable and secret keys (Supabase's API keys
// guide): such a key in `Authorization: Bearer` passes only when it is the very
// key sent as `apikey`; alone, or beside another key, it is refused before
// PostgREST, Auth or Realtime run.
import { createClient } from "@supabase/supabase-js";
import { beforeAll, describe, expect, it } from "vitest";
import { LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY } from "../../scripts/lib/stack.ts";
import { freshDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(await freshDatabase());
});

const NO_KEY = { message: "No API key found in request", hint: "No `apikey` request header or url param was found." };
const BAD_KEY = { message: "Invalid API key", hint: "Double check your Supabase `anon` or `service_role` API key." };

async function rpc(headers: Record<string, string>) {
  const res = await fetch(`${server.apiUrl}/rest/v1/rpc/get_staff_home`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: "{}",
  });
  return { status: res.status, body: await res.json() };
}

describe("an sb_ key as the bearer", () => {
  it("is refused beside another apikey", async () => {
    expect(await rpc({ authorization: `Bearer ${LOCAL_SECRET_KEY}`, apikey: server.anonKey })).toEqual({
      status: 401,
      body: BAD_KEY,
    });
    expect(await rpc({ authorization: `Bearer ${LOCAL_SECRET_KEY}`, apikey: LOCAL_PUBLISHABLE_KEY })).toEqual({
      status: 401,
      body: BAD_KEY,
    });
  });

  it("is refused alone, as no key at all", async () => {
    expect(await rpc({ authorization: `Bearer ${LOCAL_SECRET_KEY}` })).toEqual({ status: 401, body: NO_KEY });
    const auth = await fetch(`${server.apiUrl}/auth/v1/admin/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${LOCAL_SECRET_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ email: "nobody@blowing-rock.example" }),
    });
    expect({ status: auth.status, body: await auth.json() }).toEqual({ status: 401, body: NO_KEY });
  });

  it("passes when it is the apikey too, as supabase-js sends it", async () => {
    expect((await rpc({ authorization: `Bearer ${LOCAL_SECRET_KEY}`, apikey: LOCAL_SECRET_KEY })).status).not.toBe(401);
    const admin = createClient(server.apiUrl, LOCAL_SECRET_KEY, { auth: { persistSession: false } });
    const { error } = await admin.auth.admin.createUser({ email: "gate@blowing-rock.example", password: "gate-pass" });
    expect(error).toBeNull();
  });
});
