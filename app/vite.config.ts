// One build for every host: relative asset paths, so the same files serve at
// /pos on the local stack and at any path next to a Supabase project. The web
// app manifest and the service worker use relative URLs too: a manifest's
// start_url and scope resolve against the manifest's own URL, and the worker's
// scope against the page, so both land on wherever the till is hosted.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { VitePWA } from "vite-plugin-pwa";

export const THEME = "#16324f";

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  plugins: [
    react(),
    VitePWA({
      // The till decides when a new version takes over (never under a cashier's
      // pending taps): the new worker waits until the app tells it to.
      registerType: "prompt",
      injectRegister: false,
      filename: "sw.js",
      // The manifest's icons are precached by the plugin; these are the page's own.
      includeAssets: ["favicon.ico", "apple-touch-icon.png", "icon.svg"],
      manifest: {
        id: "./",
        name: "onecart till",
        short_name: "Till",
        description: "The shop's till: the queue, the carts and checkout, also when the network drops.",
        start_url: "./",
        scope: "./",
        display: "standalone",
        orientation: "any",
        theme_color: THEME,
        background_color: "#f4f6f8",
        icons: [
          { src: "icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
          { src: "icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
          { src: "icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      workbox: {
        mode: "production",
        globPatterns: ["**/*.{js,css,html}"],
        // Each host writes its own config.json; the example is not the app.
        globIgnores: ["config.example.json"],
        navigateFallback: "index.html",
        cleanupOutdatedCaches: true,
        // The first version takes the page it was installed from, so a till
        // signed in once can reload offline; later versions still wait to be asked.
        clientsClaim: true,
        runtimeCaching: [
          {
            // Where the project is: fresh when the network answers, the last copy when it does not,
            // so a till restarted during an outage still finds its project.
            urlPattern: ({ url, sameOrigin }) => sameOrigin && url.pathname.endsWith("/config.json"),
            handler: "NetworkFirst",
            options: { cacheName: "onecart-config", networkTimeoutSeconds: 4 },
          },
        ],
      },
    }),
  ],
  // supabase-js and React are most of the bundle; one chunk is right for a till that loads once a day.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, target: "es2022", chunkSizeWarningLimit: 800 },
});
