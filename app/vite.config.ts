// One build for every host: relative asset paths, so the same files serve at
// /pos on the local stack and at any path next to a Supabase project.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  plugins: [react()],
  // supabase-js and React are most of the bundle; one chunk is right for a till that loads once a day.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, target: "es2022", chunkSizeWarningLimit: 800 },
});
