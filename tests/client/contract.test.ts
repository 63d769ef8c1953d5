// The client's contract table against everything else that states the
// contract: the SQL catalog's real signatures, the functions' routes,
// docs/api.md, the error tables; and every operation through both transports.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CONTRACT_ERROR_STATUS,
  type OnecartApi,
  type Operation,
  type OperationName,
  OPERATIONS,
} from "../../client/src/index.ts";
import { ERROR_STATUS } from "../../functions/_shared/errors.ts";
import { RPCS } from "../../functions/_shared/rpc.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { CUSTOMER_A, LOCATION_A1, LOCATION_A2, PRODUCT_A, STAFF_A1, STORE_A } from "../helpers/fixture.ts";
import { NAIVE, startDevice } from "./device.ts";

let db: TestDatabase;
let server: TestServer;
let ann: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  ann = await server.token(STAFF_A1);
});

const rows = Object.entries(OPERATIONS) as Array<[OperationName, Operation]>;
const routed = rows.filter(([, op]) => op.route) as Array<[OperationName, Required<Operation>]>;

describe("the contract table", () => {
  it("names each RPC's real parameters, in order, with p_idempotency_key exactly where it says key", async () => {
    const catalog = await db.sql<{ name: string; args: string[] | null }[]>`
      select p.proname as name, p.proargnames as args
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public'`;
    const signature = new Map(catalog.map((r) => [r.name, r.args ?? []]));
    for (const [name, op] of rows) {
      const expected = [...Object.keys(op.args).map((a) => `p_${a}`), ...(op.key ? ["p_idempotency_key"] : [])];
      expect({ name, args: signature.get(op.rpc) }).toEqual({ name, args: expected });
      // The functions' own copy of the signatures agrees too.
      expect({ name, args: Object.keys(RPCS[op.rpc]) }).toEqual({ name, args: expected });
    }
  });

  it("matches docs/api.md's route table row for row", () => {
    const doc = readFileSync(new URL("../../docs/api.md", import.meta.url), "utf8");
    const section = doc.slice(doc.indexOf("## Edge function routes"));
    const table = section.slice(0, section.indexOf("\n## ")).split("\n").filter((l) => l.startsWith("| `"));
    const fields = (text: string) => [...text.matchAll(/([a-z_]+)\??(?=[,}=])/g)].map((m) => m[1]);
    const documented = table.map((line) => {
      const [route, args, rpc] = line.split("|").slice(1, 4).map((c) => c.trim());
      const [, method, path, query] = /^`(\w+) (\/[^`?]*)(\?[^`]*)?`$/.exec(route)!;
      return {
        rpc: /`(\w+)`/.exec(rpc)![1],
        route: `${method} ${path.replace(/:\w+/g, ":")}`,
        query: [...fields(query ?? ""), ...(args.startsWith("`?") ? fields(args) : [])].sort(),
        body: args.startsWith("`{") ? fields(args).filter((f) => f !== "expected_version").sort() : [],
      };
    });
    // The docs say once that every mutating cart route takes expected_version; some rows repeat it, some do not.
    const ours = routed.map(([, op]) => {
      const at = (place: string) =>
        Object.entries(op.args).filter(([a, p]) => p === place && (a !== "expected_version" || place === "query"))
          .map(([a]) => a).sort();
      return {
        rpc: op.rpc,
        route: `${op.route.method} /${op.route.fn}${op.route.path}`.replace(/:\w+/g, ":"),
        query: at("query"),
        body: at("body"),
      };
    });
    expect(documented).toEqual(ours);
  });

  it("every route is answered by its function: a malformed request gets the route's 400, an unknown one 404", async () => {
    const malformed = (op: Required<Operation>) => {
      const path = op.route.path.replace(/:\w+/g, "not-a-uuid");
      const query = Object.entries(op.args).filter(([, p]) => p === "query").map(([a]) => `${a}=not-a-uuid`);
      const body = Object.entries(op.args).filter(([, p]) => p === "body");
      return {
        path: `/${op.route.fn}${path}${query.length ? `?${query.join("&")}` : ""}`,
        body: body.length ? Object.fromEntries(body.map(([a]) => [a, "not-a-uuid"])) : undefined,
      };
    };
    for (const [name, op] of routed) {
      const { path, body } = malformed(op);
      const res = await server.call(op.route.method, path, { token: ann, body });
      expect({ name, status: res.status, code: res.body?.error?.code }).toEqual({
        name,
        status: 400,
        code: "invalid_input",
      });
      // The same request on a method the table does not give the path is no route at all.
      const other = await server.call("PUT", path, { token: ann, body });
      expect({ name, status: other.status }).toEqual({ name, status: 404 });
    }
  });

  it("the client's error codes and statuses are pos.errors and the functions' ERROR_STATUS", async () => {
    const table = await db.sql<{ code: string; http_status: number }[]>`select code, http_status from pos.errors`;
    const sql = Object.fromEntries(table.map((r) => [r.code, r.http_status]));
    expect(CONTRACT_ERROR_STATUS).toEqual(sql);
    expect(CONTRACT_ERROR_STATUS).toEqual(ERROR_STATUS);
  });
});

describe.each(["functions", "rpc"] as const)("every operation via %s", (via) => {
  it("answers as the contract says, and a keyed call replays with its key", async () => {
    const { onecart } = startDevice(server, ann, { via });
    const called = new Set<string>();
    const api = new Proxy(onecart.api, {
      get: (target, name) => (called.add(String(name)), target[name as keyof OnecartApi]),
    });
    const key = () => crypto.randomUUID();

    const cart = await api.getOrCreateCart({ location_id: LOCATION_A1, device_id: `every-op-${via}` });
    expect(await api.getCart({ cart_id: cart.id })).toEqual(cart);
    expect((await api.listOpenCarts({ location_id: LOCATION_A1 })).map((c) => c.id)).toContain(cart.id);
    const addKey = key();
    const added = await api.addItem({ cart_id: cart.id, product_id: PRODUCT_A[0], quantity: 2 }, {
      idempotencyKey: addKey,
    });
    const replayed = await api.addItem({ cart_id: cart.id, product_id: PRODUCT_A[0], quantity: 2 }, {
      idempotencyKey: addKey,
    });
    if (!NAIVE) expect(replayed.version).toBe(added.version);
    const line = added.items[0].id;
    await api.setItemQuantity({ cart_id: cart.id, item_id: line, quantity: 3 }, { idempotencyKey: key() });
    const second = await api.addItem({ cart_id: cart.id, product_id: PRODUCT_A[1] }, { idempotencyKey: key() });
    const other = second.items.find((i) => i.product_id === PRODUCT_A[1])!.id;
    const removed = await api.removeItem({ cart_id: cart.id, item_id: other, expected_version: second.version }, {
      idempotencyKey: key(),
    });
    expect(removed.items.map((i) => i.id)).toEqual([line]);
    const locked = await api.lockCart({ cart_id: cart.id, checkout_ref: "provisional" }, { idempotencyKey: key() });
    const token = locked.lock.token;
    expect(
      (await api.updateCartLock({ cart_id: cart.id, lock_token: token, checkout_ref: "pay-1" }, {
        idempotencyKey: key(),
      })).lock?.checkout_ref,
    ).toBe("pay-1");
    expect((await api.unlockCart({ cart_id: cart.id, lock_token: token }, { idempotencyKey: key() })).status)
      .toBe("active");
    const relocked = await api.lockCart({ cart_id: cart.id, checkout_ref: "pay-2" }, { idempotencyKey: key() });
    const done = await api.completeCheckout({
      cart_id: cart.id,
      lock_token: relocked.lock.token,
      checkout_ref: "pay-2",
      paid_total_cents: relocked.lock.total_cents,
    }, { idempotencyKey: key() });
    expect(done.status).toBe("checked_out");
    expect((await api.getCartHistory({ cart_id: cart.id })).at(-1)?.kind).toBe("checked_out");

    const first = await api.addToQueue({ location_id: LOCATION_A2, customer_id: CUSTOMER_A[0] }, {
      idempotencyKey: key(),
    });
    const next = await api.addToQueue({ location_id: LOCATION_A2, customer_id: CUSTOMER_A[1] }, {
      idempotencyKey: key(),
    });
    expect((await api.getQueue({ location_id: LOCATION_A2 })).entries.map((e) => e.id)).toEqual([
      first.entry.id,
      next.entry.id,
    ]);
    const callKey = key();
    const serving = await api.callNext({ location_id: LOCATION_A2 }, { idempotencyKey: callKey });
    expect(serving?.id).toBe(first.entry.id);
    if (!NAIVE) {
      expect((await api.callNext({ location_id: LOCATION_A2 }, { idempotencyKey: callKey }))?.id).toBe(first.entry.id);
    }
    expect((await api.completeQueueEntry({ entry_id: first.entry.id })).status).toBe("done");
    expect((await api.leaveQueue({ entry_id: next.entry.id })).status).toBe("left");

    const open = await api.getOrCreateCart({ location_id: LOCATION_A1, device_id: `every-op-ops-${via}` });
    await api.addItem({ cart_id: open.id, product_id: PRODUCT_A[2] });
    await api.lockCart({ cart_id: open.id });
    expect((await api.releaseCartLock({ cart_id: open.id, reason: "stuck terminal" })).status).toBe("active");
    expect((await api.repairCartTotals({ cart_id: open.id, reason: "check" })).id).toBe(open.id);
    expect((await api.abandonCart({ cart_id: open.id, reason: "walked out" })).status).toBe("abandoned");
    expect(await api.mergeStoreDuplicateCarts({ store_id: STORE_A, reason: "tidy" })).toBe(0);

    expect([...called].sort()).toEqual(Object.keys(OPERATIONS).sort());
  });

  it("the queue's actions, join to leave, through the library's outbox", async () => {
    const { onecart } = startDevice(server, ann, { via });
    const queue = onecart.queue(LOCATION_A2);
    const joined = await queue.join(CUSTOMER_A[2]).done;
    const called = await queue.callNext().done;
    expect(called?.id).toBe(joined.entry.id);
    expect((await queue.complete(joined.entry.id).done).status).toBe("done");
    const again = await queue.join(CUSTOMER_A[2]).done;
    expect((await queue.leave(again.entry.id).done).status).toBe("left");
    expect(queue.getState().rejected).toEqual([]);
  });
});
