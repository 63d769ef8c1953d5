// docs/agents.md: the tool definitions an ordering agent is given, held to the
// routes of docs/api.md (each tool one route, its inputs that route's fields),
// and the recipe run as a voice assistant's platform runs it: three parallel
// add_to_order calls, each delivered twice, through the functions with the tool
// call's id as the Idempotency-Key, make three lines, each once.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/database.ts";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { openCart, startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, STAFF_A1, STORE_A } from "../helpers/fixture.ts";

interface Tool {
  name: string;
  description: string;
  input_schema: {
    type: string;
    properties: Record<string, { type: string }>;
    required?: string[];
    additionalProperties: boolean;
  };
}
interface ToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
}
const rows = (markdown: string, pattern: RegExp) => [...markdown.matchAll(pattern)];

const agents = await readFile(join(repoRoot, "docs", "agents.md"), "utf8");
const api = await readFile(join(repoRoot, "docs", "api.md"), "utf8");
const tools: Tool[] = JSON.parse(/## The tools[\s\S]*?```json\n([\s\S]*?)```/.exec(agents)![1]);
/** The doc's table: tool → its route and RPC. */
const toolRoutes = new Map(
  rows(agents, /^\| `(\w+)` \| `(GET|POST|PATCH|DELETE) (\S+)` \| `(\w+)` \|$/gm)
    .map(([, tool, method, path, rpc]) => [tool, { method, path, rpc }]),
);
/** docs/api.md's route table: method and path → RPC and body fields (`name?` optional). */
const apiRoutes = new Map(
  rows(api, /^\| `(GET|POST|PATCH|DELETE) (\S+)` \|\s*(?:`\{([^}]*)\}`|[^|]*?)\s*\| `(\w+)`[^|]*\|$/gm)
    .map(([, method, path, fields, rpc]) => [`${method} ${path}`, {
      rpc,
      fields: (fields ?? "").split(",").map((f) => f.trim()).filter(Boolean)
        .map((f) => ({ name: f.replace(/\?$/, ""), optional: f.endsWith("?") })),
    }]),
);

let db: TestDatabase;
let server: TestServer;
let token: string;
const menu: Record<string, string> = {};

beforeAll(async () => {
  db = await freshDatabase();
  for (const [name, price] of [["Burger", 899], ["Fries", 349], ["Coke", 250]] as const) {
    const [row] = await db.sql`insert into pos.products (store_id, name, price_cents)
                               values (${STORE_A}, ${name}, ${price}) returning id`;
    menu[name] = row.id;
  }
  server = await startTestServer(db);
  token = await server.token(STAFF_A1);
});

/** docs/agents.md's recipe: the route from the doc's table, the tool call's id as the key. */
function runToolCall(call: ToolCall, cartId: string) {
  const { method, path } = toolRoutes.get(call.name)!;
  const { item_id, ...body } = call.input;
  return server.call(method, path.replace(":id", cartId).replace(":item_id", String(item_id)), {
    token,
    body: method === "POST" || method === "PATCH" ? body : undefined,
    headers: method === "GET" ? {} : { "idempotency-key": call.id },
  });
}

/** Every call delivered twice, all deliveries at once, in an order no one planned. */
async function deliverTwice(calls: ToolCall[], cartId: string) {
  const deliveries = [...calls, ...calls.toReversed()];
  const answers = await Promise.all(deliveries.map((call) => runToolCall(call, cartId)));
  for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  for (const call of calls) {
    const [first, second] = answers.filter((_, i) => deliveries[i] === call);
    expect(second.body, `both deliveries of ${call.id} answer the same`).toEqual(first.body);
  }
  return answers;
}

describe("the agent's tools in docs/agents.md", () => {
  it("are each one route of the API reference, taking that route's fields and its required ones", () => {
    expect(tools.map((t) => t.name).sort()).toEqual([...toolRoutes.keys()].sort());
    expect(apiRoutes.size, "docs/api.md's routes, as read here").toBe(16);
    for (const tool of tools) {
      expect(tool.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
      expect(tool.description.length, tool.name).toBeGreaterThan(20);
      const { method, path, rpc } = toolRoutes.get(tool.name)!;
      const route = apiRoutes.get(`${method} ${path}`);
      expect(route?.rpc, `${tool.name}: ${method} ${path} in docs/api.md`).toBe(rpc);
      // The cart is the host's; a line's id is the only other part of a path.
      const pathFields = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]).filter((p) => p !== "id");
      const schema = tool.input_schema;
      expect(schema).toMatchObject({ type: "object", additionalProperties: false });
      const routeFields = [...pathFields, ...route!.fields.map((f) => f.name)];
      expect(Object.keys(schema.properties).filter((p) => !routeFields.includes(p)), tool.name).toEqual([]);
      const required = [...pathFields, ...route!.fields.filter((f) => !f.optional).map((f) => f.name)];
      expect([...(schema.required ?? [])].sort(), tool.name).toEqual(required.sort());
    }
  });
});

describe("a voice order: 'a burger and fries and a coke'", () => {
  it("three parallel add_to_order calls, each delivered twice, make three lines, each once", async () => {
    const cart = await openCart(server, token, { location: LOCATION_A1, device: "counter-voice" });
    const calls: ToolCall[] = ["Burger", "Fries", "Coke"].map((name, i) => ({
      id: `toolu_01voice${i}${crypto.randomUUID().slice(0, 8)}`,
      name: "add_to_order",
      input: { product_id: menu[name] },
    }));
    await deliverTwice(calls, cart.id);

    const order = (await runToolCall({ id: "toolu_show", name: "show_order", input: {} }, cart.id)).body;
    expect(order.items.map((i: any) => [i.name, i.quantity]).sort()).toEqual([["Burger", 1], ["Coke", 1], [
      "Fries",
      1,
    ]]);
    expect(order).toMatchObject({ version: cart.version + 3, item_count: 3, subtotal_cents: 899 + 349 + 250 });
    const [{ adds }] = await db.sql`select count(*)::int as adds from pos.cart_events
                                     where cart_id = ${cart.id} and kind = 'item_added'`;
    expect(adds).toBe(3);

    // "Make that two cokes, and no fries": two more calls, delivered twice as well.
    const line = (name: string) => order.items.find((i: any) => i.name === name).id;
    await deliverTwice([
      {
        id: `toolu_02coke${crypto.randomUUID().slice(0, 8)}`,
        name: "change_quantity",
        input: { item_id: line("Coke"), quantity: 2 },
      },
      {
        id: `toolu_02fries${crypto.randomUUID().slice(0, 8)}`,
        name: "remove_from_order",
        input: { item_id: line("Fries") },
      },
    ], cart.id);
    const after = (await runToolCall({ id: "toolu_show", name: "show_order", input: {} }, cart.id)).body;
    expect(after.items.map((i: any) => [i.name, i.quantity]).sort()).toEqual([["Burger", 1], ["Coke", 2]]);
    expect(after).toMatchObject({ version: cart.version + 5, subtotal_cents: 899 + 2 * 250 });
    await assertInvariants(db.sql);
  });
});
