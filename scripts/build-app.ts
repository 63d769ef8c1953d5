// npm run app:build: builds the reference POS app into app/dist, the static
// files to host next to a Supabase project (see docs/app.md).
import { ensureAppBuilt } from "./lib/app.ts";

const built = await ensureAppBuilt((line) => console.log(line));
console.log(built ? "Built app/dist." : "app/dist is current.");
