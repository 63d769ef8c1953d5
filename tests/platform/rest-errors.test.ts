// /rest/v1/rpc answers errors as PostgREST does (src/PostgREST/Error.hs): the
// same status per SQLSTATE, the body { code, message, details, hint }, and the
// impersonated role's settings applied to the call.
import { createClient } from "@supabase/supabase-js";
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCATION_A1, MISSING, STAFF_A1 } from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY, signToken } from "../../scripts/lib/stack.ts";
import { TEST_JWT_SECRET } from "../helpers/server.ts";

let db: TestDatabase;
let server: TestServer;
let staffToken: string;

beforeAll(async () => {
  db = await freshDatabase();
  // This file's own database: get_queue raises whatever SQLSTATE the test puts in
  // a table, so every mapping is exercised through the real server and Postgres.
  await db.sql.unsafe(`
    create table public.raise_next (code text, message text);
    grant select on public.raise_next to anon, authenticated, service_role;
    create or replace function public.get_queue(p_location_id uuid) returns jsonb
    language plpgsql set search_path = '' as $$
    declare v_code text; v_message text;
    begin
      select r.code, r.message into v_code, v_message from public.raise_next r limit 1;
      if v_code is null then
        return jsonb_build_object('statement_timeout', current_setting('statement_timeout'),
                                  'lock_timeout', current_setting('lock_timeout'));
      end if;
      raise exception using errcode = v_code, message = coalesce(v_message, 'raised ' || v_code),
        detail = 'a detail', hint = 'a hint';
    end $$;
    grant execute on function public.get_queue(uuid) to anon, service_role;
  `);
  // As on a project: settings of the API roles, which PostgREST applies per request.
  const database = new URL(db.url).pathname.slice(1);
  await db.sql.unsafe(`alter role authenticated in database "${database}" set statement_timeout = '1234ms'`);
  await db.sql.unsafe(`alter role anon in database "${database}" set statement_timeout = '567ms'`);
  server = await startTestServer(db);
  staffToken = await server.token(STAFF_A1);
});

async function rpc(name: string, args: unknown, token?: string) {
  const res = await fetch(`${server.apiUrl}/rest/v1/rpc/${name}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      apikey: server.anonKey,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(args),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

async function raising(code: string, message?: string) {
  await db.sql`delete from public.raise_next`;
  await db.sql`insert into public.raise_next values (${code}, ${message ?? null})`;
}

describe("status per SQLSTATE, as PostgREST maps them", () => {
  it.each([
    ["P0001", 400], // plain RAISE
    ["23505", 409], // unique_violation
    ["23503", 409], // foreign_key_violation
    ["PT404", 404],
    ["PT423", 423],
    ["PT422", 422],
    ["22012", 400], // unlisted: division_by_zero
    ["23514", 400], // unlisted: check_violation
    ["P0002", 500], // other PL/pgSQL errors
    ["XX000", 500],
    ["40001", 500], // serialization_failure
    ["53300", 503], // too_many_connections
    ["57014", 500], // query_canceled (statement_timeout)
    ["57P01", 503],
    ["42883", 404],
    ["42P01", 404],
    ["25006", 405],
    ["28000", 403],
    ["0P000", 403],
    ["08006", 503],
  ])("%s → %i", async (code, status) => {
    await raising(code);
    const res = await rpc("get_queue", { p_location_id: LOCATION_A1 }, staffToken);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ code, message: `raised ${code}`, details: "a detail", hint: "a hint" });
  });

  it("42501 is 403 for a signed-in role and 401, with WWW-Authenticate, for anon", async () => {
    await raising("42501");
    const authed = await rpc("get_queue", { p_location_id: LOCATION_A1 }, staffToken);
    expect(authed.status).toBe(403);
    const anon = await rpc("get_queue", { p_location_id: LOCATION_A1 });
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toBe("Bearer");
    expect(anon.body.code).toBe("42501");
  });

  it("a token may name only an API role: none runs as anon, the database's own roles are refused", async () => {
    const asPostgres = await signToken(TEST_JWT_SECRET, { sub: STAFF_A1, role: "postgres" }, 600);
    const refused = await rpc("get_queue", { p_location_id: LOCATION_A1 }, asPostgres);
    expect([refused.status, refused.body.code]).toEqual([403, "42501"]);
    const roleless = await signToken(TEST_JWT_SECRET, { sub: STAFF_A1 }, 600);
    const asAnon = await rpc("get_queue", { p_location_id: LOCATION_A1 }, roleless);
    expect([asAnon.status, asAnon.body.code]).toEqual([401, "42501"]);
  });

  it("22023 is 401 only for a role that does not exist", async () => {
    await raising("22023", 'role "ghost" does not exist');
    expect((await rpc("get_queue", { p_location_id: LOCATION_A1 }, staffToken)).status).toBe(401);
    await raising("22023");
    expect((await rpc("get_queue", { p_location_id: LOCATION_A1 }, staffToken)).status).toBe(400);
  });

  it("onecart's own errors keep code, message, details and hint, and supabase-js reads them", async () => {
    await db.sql`delete from public.raise_next`;
    const res = await rpc("get_cart", { p_cart_id: MISSING }, staffToken);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: "PT404", message: "not_found", details: expect.any(String), hint: null });
    const supabase = createClient(server.apiUrl, server.anonKey, { accessToken: async () => staffToken });
    const { error, status } = await supabase.rpc("get_cart", { p_cart_id: MISSING });
    expect(status).toBe(404);
    expect(error).toMatchObject({ code: "PT404", message: "not_found" });
  });

  it("an anon caller without EXECUTE is 401, as PostgREST answers a missing grant to anon", async () => {
    const res = await rpc("get_cart", { p_cart_id: MISSING });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("42501");
  });
});

describe("the impersonated role's settings", () => {
  it("applies statement_timeout of authenticated and of anon over authenticator's own, as PostgREST does", async () => {
    await db.sql`delete from public.raise_next`;
    const signedIn = (await rpc("get_queue", { p_location_id: LOCATION_A1 }, staffToken)).body;
    expect(signedIn).toEqual({ statement_timeout: "1234ms", lock_timeout: "8s" });
    const anon = (await rpc("get_queue", { p_location_id: LOCATION_A1 })).body;
    expect(anon).toEqual({ statement_timeout: "567ms", lock_timeout: "8s" });
    // service_role sets none of its own: it runs under authenticator's 8 s.
    const service = await fetch(`${server.apiUrl}/rest/v1/rpc/get_queue`, {
      method: "POST",
      headers: { "content-type": "application/json", apikey: LOCAL_SECRET_KEY },
      body: JSON.stringify({ p_location_id: LOCATION_A1 }),
    });
    expect(await service.json()).toEqual({ statement_timeout: "8s", lock_timeout: "8s" });
  });
});

describe("API keys, as the Supabase gateway turns them into roles", () => {
  const post = (name: string, headers: Record<string, string>) =>
    fetch(`${server.apiUrl}/rest/v1/rpc/${name}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: "{}",
    }).then(async (res) => ({ status: res.status, body: await res.json() }));

  it("an sb_secret_ key is service_role, in apikey alone or in Authorization beside it", async () => {
    // Alone in Authorization it is no key at all (tests/platform/gateway-bearer.test.ts).
    const variants: Record<string, string>[] = [{ apikey: LOCAL_SECRET_KEY }, {
      apikey: LOCAL_SECRET_KEY,
      authorization: `Bearer ${LOCAL_SECRET_KEY}`,
    }];
    for (const headers of variants) {
      const res = await post("expire_cart_locks", headers);
      expect(res).toEqual({ status: 200, body: 0 });
    }
  });

  it("an sb_publishable_ key is anon; an unknown sb_ key is refused", async () => {
    const anon = await post("expire_cart_locks", { apikey: LOCAL_PUBLISHABLE_KEY });
    expect(anon.status).toBe(401);
    expect(anon.body.code).toBe("42501");
    const unknown = await post("expire_cart_locks", { apikey: "sb_secret_not-this-project" });
    expect(unknown.status).toBe(401);
    expect(unknown.body.message).toBe("Invalid API key");
  });
});
