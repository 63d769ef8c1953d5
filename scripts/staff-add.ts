// npm run staff:add -- --email … --password … --store <store id> --role owner|manager|staff
//
// Creates a staff member the way it is done on a project: the user through the
// Auth admin API (supabase-js auth.admin.createUser with the secret key), then
// the pos.staff row through the service_role-only RPC add_staff_member (pos is
// not exposed, and this needs no database password). Against the running local
// stack by default (.onecart/stack.json); against a project when SUPABASE_URL and
// SUPABASE_SECRET_KEY (or the legacy SUPABASE_SERVICE_ROLE_KEY) are set.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "@supabase/supabase-js";
import { repoRoot } from "./lib/database.ts";

export interface StaffMember {
  email: string;
  password: string;
  store: string;
  role: "owner" | "manager" | "staff";
}

export async function addStaffMember(
  target: { url: string; key: string },
  member: StaffMember,
): Promise<{ user_id: string; store_id: string; role: string }> {
  const admin = createClient(target.url, target.key, { auth: { persistSession: false, autoRefreshToken: false } });
  const { data, error } = await admin.auth.admin.createUser({
    email: member.email,
    password: member.password,
    email_confirm: true,
  });
  if (error) throw new Error(`Auth refused the user: ${error.message} (${error.code ?? error.status})`);
  const staff = await admin.rpc("add_staff_member", {
    p_user_id: data.user.id,
    p_store_id: member.store,
    p_role: member.role,
  });
  if (staff.error) {
    // No staff member without a staff row: take the half-made user back.
    await admin.auth.admin.deleteUser(data.user.id).catch(() => {});
    throw new Error(
      `onecart refused the staff row: ${staff.error.details || staff.error.message} (${staff.error.message})`,
    );
  }
  return staff.data as { user_id: string; store_id: string; role: string };
}

async function target(): Promise<{ url: string; key: string; where: string }> {
  const url = process.env.SUPABASE_URL;
  const key = process.env.SUPABASE_SECRET_KEY ?? process.env.SUPABASE_SERVICE_ROLE_KEY;
  if (url && key) return { url, key, where: url };
  if (url || key) {
    throw new Error("Set both SUPABASE_URL and SUPABASE_SECRET_KEY (or SUPABASE_SERVICE_ROLE_KEY), or neither.");
  }
  const stateDir = process.env.ONECART_STATE_DIR ?? join(repoRoot, ".onecart");
  let stack: { api_url: string; service_role_key: string };
  try {
    stack = JSON.parse(await readFile(join(stateDir, "stack.json"), "utf8"));
  } catch {
    throw new Error(
      "No running local stack (.onecart/stack.json): start one with `npm start`, or set SUPABASE_URL " +
        "and SUPABASE_SECRET_KEY to add staff to a project.",
    );
  }
  return { url: stack.api_url, key: stack.service_role_key, where: `the local stack at ${stack.api_url}` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const usage = "usage: npm run staff:add -- --email <e-mail> --password <password> --store <store id> " +
    "--role owner|manager|staff";
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        email: { type: "string" },
        password: { type: "string" },
        store: { type: "string" },
        role: { type: "string" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  const role = values.role ?? "staff";
  if (!values.email || !values.password || !values.store || !["owner", "manager", "staff"].includes(role)) {
    console.error(usage);
    process.exit(2);
  }
  try {
    const t = await target();
    const staff = await addStaffMember(t, {
      email: values.email,
      password: values.password,
      store: values.store,
      role: role as StaffMember["role"],
    });
    console.log(`Added ${values.email} (${staff.user_id}) as ${staff.role} of store ${staff.store_id} on ${t.where}.`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
