// User tokens as a project's Auth signs them with an asymmetric key (ES256).
import { SignJWT } from "jose";
import { STAFF_A1 } from "./fixture.ts";

/** A five-minute staff token for `sub`, signed with `key` and naming key id `kid`. */
export async function es256(key: CryptoKey, kid: string, sub = STAFF_A1): Promise<string> {
  return await new SignJWT({ sub, role: "authenticated", aud: "authenticated" })
    .setProtectedHeader({ alg: "ES256", kid })
    .setExpirationTime("5m")
    .sign(key);
}
