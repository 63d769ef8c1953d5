// Projects on asymmetric JWT signing keys: the functions verify tokens against
// the project's JWKS (SUPABASE_JWKS here), and still take the HS256 secret.
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningServer, staffToken, startServer } from "../../scripts/lib/stack.ts";
import { freshDatabase } from "../helpers/db.ts";
import { LOCATION_A1, STAFF_A1 } from "../helpers/fixture.ts";
import { TEST_JWT_SECRET } from "../helpers/server.ts";
import { es256 } from "../helpers/tokens.ts";

let server: RunningServer;
let projectKey: CryptoKey;
let strangerKey: CryptoKey;

beforeAll(async () => {
  const db = await freshDatabase();
  const project = await generateKeyPair("ES256", { extractable: true });
  projectKey = project.privateKey;
  strangerKey = (await generateKeyPair("ES256")).privateKey;
  const jwk = { ...(await exportJWK(project.publicKey)), kid: "project-key-1", alg: "ES256", use: "sig" };
  server = await startServer({
    dbUrl: db.url,
    jwtSecret: TEST_JWT_SECRET,
    env: { SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }) },
  });
});
afterAll(() => server?.stop());

async function status(token: string) {
  const res = await fetch(`${server.apiUrl}/functions/v1/carts?location_id=${LOCATION_A1}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

it("accepts ES256 tokens signed with the project's key and refuses any other key", async () => {
  expect(await status(await es256(projectKey, "project-key-1"))).toBe(200);
  expect(await status(await es256(strangerKey, "project-key-1"))).toBe(401);
  expect(await status(await staffToken(TEST_JWT_SECRET, STAFF_A1))).toBe(200);
});
