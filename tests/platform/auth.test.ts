// The local /auth/v1 through unmodified supabase-js, as a POS app and a server
// integration use Supabase Auth on a project: sign-in, getUser, refresh with
// rotation, sign-out, the admin create-user call, and `npm run staff:add`.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/database.ts";
import { LOCAL_SECRET_KEY } from "../../scripts/lib/stack.ts";
import { addStaffMember } from "../../scripts/staff-add.ts";
import { expectError, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, LOCATION_B1, STAFF_A1, STAFF_A2, STAFF_B1, STORE_B } from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const run = promisify(execFile);
let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
});

function client(key = server.anonKey): SupabaseClient {
  return createClient(server.apiUrl, key, { auth: { persistSession: false, autoRefreshToken: false } });
}

/** A client acting with a user's access token; its API key stays the project's anon key, as the gateway asks. */
function asUser(accessToken: string): SupabaseClient {
  return createClient(server.apiUrl, server.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Authorization: `Bearer ${accessToken}` } },
  });
}

async function listCarts(token: string, location = LOCATION_A1) {
  return await server.call("GET", `/carts?location_id=${location}`, { token });
}

describe("the seeded staff", () => {
  it.each([
    ["ana@blowing-rock.example", STAFF_A1],
    ["ben@blowing-rock.example", STAFF_A2],
    ["cruz@valle-crucis.example", STAFF_B1],
  ])("%s signs in with the local password", async (email, id) => {
    const { data, error } = await client().auth.signInWithPassword({ email, password: "onecart-local" });
    expect(error).toBeNull();
    expect(data.user!.id).toBe(id);
    const claims = decodeJwt(data.session!.access_token);
    expect(claims).toMatchObject({ sub: id, role: "authenticated", aud: "authenticated", email });
    expect(typeof claims.exp).toBe("number");
    expect(typeof claims.session_id).toBe("string");
  });

  it("a wrong password is GoTrue's invalid_credentials, and nothing is signed in", async () => {
    const sessions = async () => (await db.sql`select count(*)::int as n from auth.sessions`)[0].n;
    const before = await sessions();
    const { data, error } = await client().auth.signInWithPassword({
      email: "ana@blowing-rock.example",
      password: "not-the-password",
    });
    expect(data.session).toBeNull();
    expect(error).toMatchObject({ status: 400, code: "invalid_credentials", message: "Invalid login credentials" });
    expect(await sessions()).toBe(before);

    // The raw bodies, by API version, as GoTrue answers them.
    const post = (headers: Record<string, string>) =>
      fetch(`${server.apiUrl}/auth/v1/token?grant_type=password`, {
        method: "POST",
        headers: { "content-type": "application/json", apikey: server.anonKey, ...headers },
        body: JSON.stringify({ email: "nobody@blowing-rock.example", password: "onecart-local" }),
      });
    const current = await post({ "x-supabase-api-version": "2024-01-01" });
    expect(current.status).toBe(400);
    expect(current.headers.get("x-supabase-api-version")).toBe("2024-01-01");
    expect(await current.json()).toEqual({ code: "invalid_credentials", message: "Invalid login credentials" });
    const initial = await post({});
    expect(await initial.json()).toEqual({
      code: 400,
      error_code: "invalid_credentials",
      msg: "Invalid login credentials",
    });
  });
});

describe("a session", () => {
  it("signs in, reads its user, calls a function, refreshes with rotation and signs out", async () => {
    const supabase = client();
    const signIn = await supabase.auth.signInWithPassword({
      email: "ana@blowing-rock.example",
      password: "onecart-local",
    });
    expect(signIn.error).toBeNull();
    const first = signIn.data.session!;

    const { data: got, error: getError } = await supabase.auth.getUser();
    expect(getError).toBeNull();
    expect(got.user).toMatchObject({ id: STAFF_A1, email: "ana@blowing-rock.example", aud: "authenticated" });

    expect((await listCarts(first.access_token)).status).toBe(200);

    const refreshed = await supabase.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    const second = refreshed.data.session!;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token).session_id).toBe(decodeJwt(first.access_token).session_id);
    expect((await listCarts(second.access_token)).status).toBe(200);

    // Within GoTrue's reuse interval the rotated token returns its replacement.
    const again = await client().auth.refreshSession({ refresh_token: first.refresh_token });
    expect(again.error).toBeNull();
    expect(again.data.session!.refresh_token).toBe(second.refresh_token);

    expect((await supabase.auth.signOut()).error).toBeNull();
    const after = await client().auth.getUser(second.access_token);
    expect(after.data.user).toBeNull();
    expect(after.error?.name).toBe("AuthSessionMissingError");
    const gone = await client().auth.refreshSession({ refresh_token: second.refresh_token });
    expect(gone.error).toMatchObject({ status: 400, code: "refresh_token_not_found" });
  });

  it("a banned user's refresh is refused, and nothing is rotated; lifted, it works again", async () => {
    const supabase = client();
    const { data } = await supabase.auth.signInWithPassword({
      email: "ben@blowing-rock.example",
      password: "onecart-local",
    });
    const session = data.session!;
    const admin = db.admin();
    await admin`update auth.users set banned_until = now() + interval '1 hour' where id = ${session.user.id}`;
    try {
      const banned = await client().auth.refreshSession({ refresh_token: session.refresh_token });
      expect(banned.error).toMatchObject({ status: 400, code: "user_banned" });
      const [{ revoked }] = await admin`select revoked from auth.refresh_tokens where token = ${session.refresh_token}`;
      expect(revoked).toBe(false);
    } finally {
      await admin`update auth.users set banned_until = null where id = ${session.user.id}`;
    }
    const lifted = await client().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(lifted.error).toBeNull();
  });

  it("a rotated refresh token used again after the reuse interval revokes the session's tokens", async () => {
    // The parent of the active token is the allowed reuse (a lost answer); an
    // older one, past GoTrue's reuse interval, is reuse.
    const supabase = client();
    const { data } = await supabase.auth.signInWithPassword({
      email: "ben@blowing-rock.example",
      password: "onecart-local",
    });
    const first = data.session!;
    await supabase.auth.refreshSession();
    const third = (await supabase.auth.refreshSession()).data.session!;
    await db
      .sql`update auth.refresh_tokens set updated_at = now() - interval '1 minute' where token in (${first.refresh_token}, ${third.refresh_token})`;

    const reuse = await client().auth.refreshSession({ refresh_token: first.refresh_token });
    expect(reuse.error).toMatchObject({ status: 400, code: "refresh_token_already_used" });
    await db
      .sql`update auth.refresh_tokens set updated_at = now() - interval '1 minute' where token = ${third.refresh_token}`;
    const stolen = await client().auth.refreshSession({ refresh_token: third.refresh_token });
    expect(stolen.error).toMatchObject({ status: 400, code: "refresh_token_already_used" });
  });

  it("getUser without a valid token is refused as GoTrue refuses it", async () => {
    const { error } = await client().auth.getUser("not-a-jwt");
    expect(error).toMatchObject({ status: 403, code: "bad_jwt" });
  });
});

describe("the admin API", () => {
  it("creates a user with the service role key, who signs in", async () => {
    const admin = client(server.serviceRoleKey);
    const { data, error } = await admin.auth.admin.createUser({
      email: "dee@blowing-rock.example",
      password: "dee-password",
      email_confirm: true,
    });
    expect(error).toBeNull();
    expect(data.user).toMatchObject({ email: "dee@blowing-rock.example", aud: "authenticated", role: "authenticated" });
    const [row] = await db.sql`select encrypted_password from auth.users where id = ${data.user!.id}`;
    expect(row.encrypted_password).toMatch(/^\$2a\$10\$/);
    const signIn = await client().auth.signInWithPassword({
      email: "dee@blowing-rock.example",
      password: "dee-password",
    });
    expect(signIn.error).toBeNull();

    const duplicate = await admin.auth.admin.createUser({ email: "dee@blowing-rock.example", password: "x-password" });
    expect(duplicate.error).toMatchObject({ status: 422, code: "email_exists" });
  });

  it("refuses a staff member's token", async () => {
    const { data } = await client().auth.signInWithPassword({
      email: "ana@blowing-rock.example",
      password: "onecart-local",
    });
    const asStaff = asUser(data.session!.access_token);
    const { error } = await asStaff.auth.admin.createUser({
      email: "eve@blowing-rock.example",
      password: "eve-password",
    });
    expect(error).toMatchObject({ status: 403, code: "not_admin" });
    expect(await db.sql`select id from auth.users where email = 'eve@blowing-rock.example'`).toEqual([]);
  });
});

describe("staff:add", () => {
  it("creates the user through Auth and staffs them through the RPC, with the sb_secret key", async () => {
    const staff = await addStaffMember({ url: server.apiUrl, key: LOCAL_SECRET_KEY }, {
      email: "finn@valle-crucis.example",
      password: "finn-password",
      store: STORE_B,
      role: "manager",
    });
    expect(staff).toMatchObject({ store_id: STORE_B, role: "manager" });
    const { data } = await client().auth.signInWithPassword({
      email: "finn@valle-crucis.example",
      password: "finn-password",
    });
    expect(data.user!.id).toBe(staff.user_id);
    const carts = await listCarts(data.session!.access_token, LOCATION_B1);
    expect(carts.status).toBe(200);
    const created = await server.call("POST", "/carts", {
      token: data.session!.access_token,
      body: { location_id: LOCATION_B1, device_id: "finn-till" },
    });
    expect(created.status).toBe(200);
    expect(created.body.store_id).toBe(STORE_B);
    // Staff of B, not of A.
    expect(
      (await server.call("POST", "/carts", {
        token: data.session!.access_token,
        body: { location_id: LOCATION_A1, device_id: "finn-till" },
      })).body.error.code,
    ).toBe("not_found");
  });

  it("takes the user back when the staff row is refused (unknown store)", async () => {
    await expect(addStaffMember({ url: server.apiUrl, key: LOCAL_SECRET_KEY }, {
      email: "gus@valle-crucis.example",
      password: "gus-password",
      store: "00000000-0000-4000-8000-00000000dead",
      role: "staff",
    })).rejects.toThrow(/not_found/);
    expect(await db.sql`select id from auth.users where email = 'gus@valle-crucis.example'`).toEqual([]);
  });

  it("runs as `npm run staff:add` against a URL and key from the environment", async () => {
    const { stdout } = await run(process.execPath, [
      "--import",
      "tsx",
      "scripts/staff-add.ts",
      "--email",
      "hal@blowing-rock.example",
      "--password",
      "hal-password",
      "--store",
      "5a000000-0000-4000-8000-000000000001",
      "--role",
      "staff",
    ], { cwd: repoRoot, env: { ...process.env, SUPABASE_URL: server.apiUrl, SUPABASE_SECRET_KEY: LOCAL_SECRET_KEY } });
    expect(stdout).toMatch(/Added hal@blowing-rock\.example .* as staff of store 5a000000/);
    const [row] = await db.sql`select s.role from pos.staff s join auth.users u on u.id = s.user_id
                               where u.email = 'hal@blowing-rock.example'`;
    expect(row.role).toBe("staff");
  });

  it("staff may not call add_staff_member themselves", async () => {
    const { data } = await client().auth.signInWithPassword({
      email: "ana@blowing-rock.example",
      password: "onecart-local",
    });
    const { error } = await asUser(data.session!.access_token).rpc("add_staff_member", {
      p_user_id: STAFF_A2,
      p_store_id: STORE_B,
      p_role: "owner",
    });
    expect(error).toMatchObject({ code: "42501" });
    // Through a function's error mapping it is the contract's forbidden.
    await expectError(
      db.as(STAFF_A1).rpc("add_staff_member", {
        p_user_id: STAFF_A2,
        p_store_id: STORE_B,
        p_role: "owner",
      }),
      "forbidden",
    );
    expect(await db.sql`select 1 from pos.staff where user_id = ${STAFF_A2} and store_id = ${STORE_B}`).toEqual([]);
  });
});
