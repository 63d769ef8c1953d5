// npm run token -- <staff user id>: a staff JWT for the running local stack.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "./lib/database.ts";
import { staffToken } from "./lib/stack.ts";
import { STAFF_A1 } from "./lib/seed.ts";

const userId = process.argv[2];
if (!userId || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(userId)) {
  console.error(`usage: npm run token -- <staff user id>   (e.g. ${STAFF_A1})`);
  process.exit(2);
}
let stack: { jwt_secret: string };
try {
  stack = JSON.parse(
    await readFile(join(process.env.ONECART_STATE_DIR ?? join(repoRoot, ".onecart"), "stack.json"), "utf8"),
  );
} catch {
  console.error("No running stack: start one with `npm start` first.");
  process.exit(1);
}
const hours = Number(process.env.TOKEN_TTL_HOURS ?? 24);
console.log(await staffToken(stack.jwt_secret, userId, hours * 3600));
