// Entry: read where the project is (config.json beside the page), then render.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createClient } from "@supabase/supabase-js";
import { App } from "./App.tsx";
import "./styles.css";

interface Config {
  supabase_url: string;
  anon_key: string;
}

const root = createRoot(document.getElementById("root")!);
try {
  const response = await fetch("./config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as Config;
  const supabase = createClient(config.supabase_url, config.anon_key, {
    auth: { persistSession: true, storageKey: "onecart.auth" },
  });
  root.render(
    <StrictMode>
      <App supabase={supabase} />
    </StrictMode>,
  );
} catch (error) {
  root.render(
    <main className="fatal" role="alert">
      <h1>onecart cannot start</h1>
      <p>This page needs a config.json beside it naming the Supabase project ({String(error)}).</p>
    </main>,
  );
}
