// `npm start` as a person runs it: it comes up, writes stack.json, shows the
// two-device demo, refuses a second instance, and Ctrl-C (SIGINT to the whole
// process group, as a terminal sends it) leaves no process behind.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@supabase/supabase-js";
import { afterAll, expect, it } from "vitest";
import { connect, repoRoot } from "../../scripts/lib/database.ts";
import { freePort } from "../../scripts/lib/postgres.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A2, STORE_A } from "../helpers/fixture.ts";
import { groupMembers } from "../helpers/processes.ts";
import { joinChannel } from "../helpers/realtime.ts";

const run = promisify(execFile);
const stateDir = await mkdtemp(join(tmpdir(), "onecart-start-"));
afterAll(() => rm(stateDir, { recursive: true, force: true }));

it("starts, serves supabase-js, refuses a second start, and stops cleanly on SIGINT", async () => {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), ONECART_STATE_DIR: stateDir };
  delete env.ONECART_DATABASE_URL;
  env.DATABASE_URL = "postgres://nobody:wrong@127.0.0.1:1/not_this_one"; // ignored: only ONECART_DATABASE_URL counts
  const npm = spawn("npm", ["start"], { cwd: repoRoot, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  npm.stdout.on("data", (c) => (output += c));
  npm.stderr.on("data", (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => npm.once("exit", resolve));
  try {
    const started = Date.now();
    while (!output.includes("Both devices show the same cart") && !output.includes("demo failed")) {
      if (npm.exitCode !== null || Date.now() - started > 90_000) {
        throw new Error(`npm start did not come up:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain("Both devices show the same cart. Nothing was lost.");
    expect(output).toMatch(/iPad sees v3: .*Haircut.*Beard Trim|iPad sees v3: .*Beard Trim.*Haircut/);

    const stack = JSON.parse(await readFile(join(stateDir, "stack.json"), "utf8"));
    expect(Object.keys(stack).sort()).toEqual(
      ["admin_db_url", "anon_key", "api_url", "db_url", "jwt_secret", "service_role_key"],
    );
    expect(new URL(stack.db_url).username).toBe("postgres");
    expect(new URL(stack.admin_db_url).username).toBe("supabase_admin");
    expect(stack.api_url).toBe(`http://127.0.0.1:${port}`);

    const { stdout: token } = await run("npm", ["run", "--silent", "token", "--", STAFF_A2], { cwd: repoRoot, env });
    const client = createClient(stack.api_url, stack.anon_key, { accessToken: async () => token.trim() });
    const { data, error } = await client.functions.invoke(`queue?location_id=${LOCATION_A1}`, { method: "GET" });
    expect(error).toBeNull();
    expect(data).toMatchObject({ location_id: LOCATION_A1, entries: [] });

    // The printed sign-ins work through supabase-js, and staff:add finds the stack by stack.json.
    for (const email of ["ana@blowing-rock.example", "ben@blowing-rock.example", "cruz@valle-crucis.example"]) {
      expect(output).toContain(email);
    }
    expect(output).toContain("password onecart-local");
    await run("npm", [
      "run",
      "--silent",
      "staff:add",
      "--",
      "--email",
      "ivy@blowing-rock.example",
      "--password",
      "ivy-password",
      "--store",
      STORE_A,
      "--role",
      "manager",
    ], { cwd: repoRoot, env });
    const ivy = createClient(stack.api_url, stack.anon_key, { auth: { persistSession: false } });
    expect((await ivy.auth.signInWithPassword({ email: "ivy@blowing-rock.example", password: "ivy-password" })).error)
      .toBeNull();
    const queue = await ivy.functions.invoke(`queue?location_id=${LOCATION_A1}`, { method: "GET" });
    expect(queue.error).toBeNull();

    // The POS app is built and served at /pos, configured for this stack.
    expect(output).toContain(`${stack.api_url}/pos/`);
    const page = await fetch(`${stack.api_url}/pos/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>onecart POS</title>");
    expect(await (await fetch(`${stack.api_url}/pos/config.json`)).json())
      .toEqual({ supabase_url: stack.api_url, anon_key: stack.anon_key });

    // A failed statement shows as one line by default; requests only when asked for.
    const sql = connect(stack.db_url, { max: 1 });
    await sql.unsafe("selec 1").catch(() => {});
    for (let i = 0; i < 50 && !output.includes("[postgres] ERROR 42601"); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toMatch(/^\[postgres\] ERROR 42601: syntax error at or near "selec"/m);

    // Answers are not errors: a channel join (its write probe is refused by RLS,
    // as on a project) and a version conflict print nothing, and are counted on stop.
    const { data: cart } = await client.functions.invoke("carts", {
      body: { location_id: LOCATION_A1, device_id: "start-test" },
    });
    const conflict = await client.functions.invoke(`carts/${cart.id}/items`, {
      body: { product_id: PRODUCT_A[0], expected_version: 99 },
    });
    expect(conflict.error?.context?.status).toBe(409);
    const device = await joinChannel(client, `cart:${cart.id}`, "cart_updated", { private: true });
    expect(device.status).toBe("SUBSCRIBED");
    await client.removeAllChannels();
    // A second failed statement, logged after the join's and the conflict's lines.
    await sql.unsafe("selec 2").catch(() => {});
    for (let i = 0; i < 50 && output.split("[postgres] ERROR 42601").length < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output.split("[postgres] ERROR 42601")).toHaveLength(3);
    expect(output).not.toMatch(/\[postgres\] ERROR (42501|PT)/);
    expect(output).not.toContain("[request]");
    expect(output).not.toMatch(/supabase_migrations/);

    await sql.end();

    // The state folder named is the real one, and what stopping does to it is said.
    expect(output).toContain(
      `Written to ${
        join(stateDir, "stack.json")
      }. Ctrl-C stops everything and removes stack.json and pid from ${stateDir}.`,
    );

    const second = await run("npm", ["start"], { cwd: repoRoot, env }).catch((e) => e);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("already running");
  } finally {
    process.kill(-npm.pid!, "SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
  expect(output).toContain("Stopped.");
  const [, refusals, checks] = /Not printed: (\d+) refusals onecart answered \(PTnnn\) and (\d+) Realtime join checks/
    .exec(output) ?? [];
  expect(Number(refusals)).toBeGreaterThanOrEqual(1);
  expect(Number(checks)).toBeGreaterThanOrEqual(1);
  expect(await groupMembers(npm.pid!)).toEqual([]);
  await expect(stat(join(stateDir, "stack.json"))).rejects.toThrow();
  await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
}, 150_000);
