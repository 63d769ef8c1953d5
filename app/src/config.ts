// Where the project is: config.json beside the page. The service worker answers
// it network-first from its cache; the copy kept here also covers a start
// before the worker controls the page (the very first visit, a cleared cache).
export interface Config {
  supabase_url: string;
  anon_key: string;
}

const KEPT = "onecart.config";

export async function loadConfig(): Promise<Config | null> {
  try {
    const response = await fetch("./config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
    const config = (await response.json()) as Config;
    localStorage.setItem(KEPT, JSON.stringify(config));
    return config;
  } catch (error) {
    const kept = localStorage.getItem(KEPT);
    if (kept) return JSON.parse(kept) as Config;
    console.warn("onecart: config.json could not be read", error);
    return null;
  }
}
