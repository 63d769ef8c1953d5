// What every benchmark gets: the stack it runs on and ways to act as staff.
import type postgres from "postgres";
import { connect } from "../scripts/lib/database.ts";
import { type Stack, staffToken } from "../scripts/lib/stack.ts";
import { callRpc, type Claims, type RpcArgs, type RpcName } from "../functions/_shared/rpc.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1, STAFF_A2, STORE_A } from "../scripts/lib/seed.ts";

export { LOCATION_A1, STORE_A };
export const PRODUCTS = PRODUCT_A;
export const STAFF = [STAFF_A1, STAFF_A2];

export type Sql = postgres.Sql<{}>;

export const staffClaims = (userId: string): Claims => ({
  sub: userId,
  role: "authenticated",
  aud: "authenticated",
  exp: Math.floor(Date.now() / 1000) + 3600,
});

export class BenchContext {
  private pools: Sql[] = [];
  constructor(readonly stack: Stack) {}

  pool(max: number, url = this.stack.dbUrl, settings: Record<string, string> = {}): Sql {
    const pool = connect(url, { max, connection: settings });
    this.pools.push(pool);
    return pool;
  }

  rpc<N extends RpcName>(pool: Sql, name: N, args: RpcArgs<N>, user = STAFF[0]): Promise<any> {
    return callRpc(pool as never, name, args, staffClaims(user));
  }

  token(user = STAFF[0]): Promise<string> {
    return staffToken(this.stack.jwtSecret, user);
  }

  /** A new device cart at location A1 holding one line of each of the 5 products. */
  async cartWithFiveLines(pool: Sql, device: string): Promise<string> {
    const cart = await this.rpc(pool, "get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: device });
    for (const product of PRODUCTS) await this.rpc(pool, "add_item", { p_cart_id: cart.id, p_product_id: product });
    return cart.id;
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.end()));
  }
}
