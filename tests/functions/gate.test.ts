// The functions' admission gate on its own: its share per cart, its deadline,
// the order it admits in, and requests whose client left. The database-backed
// proof is tests/functions/waits.test.ts; this pins the rules it relies on.
import { expect, it } from "vitest";
import { ClientGone, ConnectionGate, GateTimeout } from "../../functions/_shared/gate.ts";

const later = (ms: number) => performance.now() + ms;

it("gives one cart at most its share and keeps the rest of the pool for others", async () => {
  const gate = new ConnectionGate(3, 2);
  const held = [
    await gate.acquire("cart-a", { deadline: later(1000) }),
    await gate.acquire("cart-a", { deadline: later(1000) }),
  ];
  const third = gate.acquire("cart-a", { deadline: later(5000) });
  // Another cart still gets the last connection at once.
  const other = await gate.acquire("cart-b", { deadline: later(0) });
  expect(gate.stats).toEqual({ inUse: 3, waiting: 1 });
  other();
  expect(gate.stats).toEqual({ inUse: 2, waiting: 1 }); // cart-a is still at its share
  held[0]();
  const release = await third;
  expect(gate.stats).toEqual({ inUse: 2, waiting: 0 });
  release();
  held[1]();
  release(); // a second release changes nothing
  expect(gate.stats).toEqual({ inUse: 0, waiting: 0 });
});

it("answers a request no connection was free for by its deadline", async () => {
  const gate = new ConnectionGate(1, 1);
  const held = await gate.acquire("cart-a", { deadline: later(0) });
  const late = await gate.acquire("cart-b", { deadline: later(50) }).catch((e) => e);
  expect(late).toBeInstanceOf(GateTimeout);
  expect(late.heldBy).toBe("pool");
  expect(gate.stats).toEqual({ inUse: 1, waiting: 0 });
  held();
});

it("forgets a request whose client left, and admits the others oldest first", async () => {
  const gate = new ConnectionGate(1, 1);
  const held = await gate.acquire(null, { deadline: later(0) });
  const gone = new AbortController();
  const order: string[] = [];
  const first = gate.acquire("a", { deadline: later(5000), signal: gone.signal }).catch((e) => e);
  const second = gate.acquire("b", { deadline: later(5000) }).then((r) => (order.push("b"), r));
  const third = gate.acquire("c", { deadline: later(5000) }).then((r) => (order.push("c"), r));
  gone.abort();
  expect(await first).toBeInstanceOf(ClientGone);
  expect(gate.stats.waiting).toBe(2);
  held();
  (await second)();
  (await third)();
  expect(order).toEqual(["b", "c"]);
  const aborted = new AbortController();
  aborted.abort();
  await expect(gate.acquire(null, { deadline: later(0), signal: aborted.signal })).rejects.toBeInstanceOf(ClientGone);
});
