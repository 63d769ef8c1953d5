// The project's API keys as the Supabase gateway reads them, for the local
// stand-ins that sit behind it (REST, Auth, Realtime and the gateway itself):
// an `sb_secret_…` key (SUPABASE_SECRET_KEYS) stands for service_role, an
// `sb_publishable_…` key (SUPABASE_PUBLISHABLE_KEYS) for anon. The functions
// make their own check (functions/_shared/auth.ts), as a project's do.
import { verifyCredentials } from "npm:@supabase/server@1.8.1/core";

/** The role an `sb_…` API key stands for, or null when it is no key of this project. */
export async function apiKeyRole(key: string): Promise<"service_role" | "anon" | null> {
  for (const [mode, role] of [["secret:*", "service_role"], ["publishable:*", "anon"]] as const) {
    const { data } = await verifyCredentials({ token: null, apikey: key }, { auth: mode });
    if (data) return role;
  }
  return null;
}
