// Entry: read where the project is (config.json beside the page), then render.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createClient } from "@supabase/supabase-js";
import { App } from "./App.tsx";
import { loadConfig } from "./config.ts";
import { startUpdates } from "./update.ts";
import "./styles.css";

// The worker first: it is what lets the next start work without network.
startUpdates();
const root = createRoot(document.getElementById("root")!);
const config = await loadConfig();
if (config) {
  const supabase = createClient(config.supabase_url, config.anon_key, {
    auth: { persistSession: true, storageKey: "onecart.auth" },
  });
  root.render(
    <StrictMode>
      <App supabase={supabase} />
    </StrictMode>,
  );
} else {
  root.render(
    <main className="fatal" role="alert">
      <h1>The till cannot start yet</h1>
      <p>
        This device has never reached onecart: connect it to the network and reload once, and from then on the till also
        starts offline.
      </p>
    </main>,
  );
}
