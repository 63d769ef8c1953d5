// Serves the reference POS app (app/dist, built by `npm start` when its sources
// changed) at /pos on the stack's port, as a static host next to a Supabase
// project would: the files as built, plus a config.json naming this stack.
import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
};

export function createPosApp(opts: { distDir: string; anonKey: string }) {
  return async function servePosApp(request: Request, pathname: string): Promise<Response> {
    if (pathname === "/pos") return Response.redirect(new URL("/pos/", request.url), 308);
    let relative: string;
    try {
      relative = decodeURIComponent(pathname.slice("/pos/".length)) || "index.html";
    } catch {
      return new Response("not found", { status: 404 }); // a malformed %-escape names no file
    }
    if (relative === "config.json") {
      // Same origin as the page; supabase-js finds Auth, functions and Realtime under it.
      return Response.json({ supabase_url: new URL(request.url).origin, anon_key: opts.anonKey });
    }
    const path = normalize(join(opts.distDir, relative));
    if (!path.startsWith(opts.distDir)) return new Response("not found", { status: 404 });
    try {
      const body = await Deno.readFile(path);
      return new Response(body, {
        headers: {
          "content-type": TYPES[extname(path)] ?? "application/octet-stream",
          // Hashed asset names never change content; the page, the manifest and the
          // service worker always revalidate (a cached sw.js would hide a new version).
          "cache-control": relative.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
        },
      });
    } catch {
      if (relative === "index.html") {
        return new Response("The POS app is not built: run `npm run app:build` (npm start does it).", { status: 503 });
      }
      return new Response("not found", { status: 404 });
    }
  };
}
