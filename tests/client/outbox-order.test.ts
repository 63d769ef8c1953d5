// The order a cart's actions are replayed in after a takeover or a restart is
// the order they were made in, whatever order the storage lists its keys in
// (IndexedDB lists them sorted, AsyncStorage and localStorage as they like)
// and whatever the clock did: two taps share a millisecond, a clock steps back.
import { expect, it } from "vitest";
import type { Action } from "../../client/src/actions.ts";
import { Outbox } from "../../client/src/outbox.ts";
import { startPresence } from "../../client/src/presence.ts";
import { type KeyValueStorage, memoryStorage } from "../../client/src/storage.ts";

/** A store that lists its keys sorted, as IndexedDB's getAllKeys does. */
function sortedKeys(map: Map<string, string>): KeyValueStorage {
  const inner = memoryStorage(map);
  return { ...inner, keys: async (prefix) => [...await inner.keys!(prefix)].sort() };
}

function outboxOf(storage: KeyValueStorage, clientId: string) {
  const presence = startPresence({ coordination: "lease", storage, storageKey: "till", clientId, leaseMs: 60_000 });
  return { presence, outbox: new Outbox({ storage, storageKey: "till", presence, clientId }) };
}

const add = (key: string, createdAt: number): Action =>
  ({ kind: "add_item", cartId: "c", productId: "p", quantity: 1, options: {}, key, createdAt }) as Action;
const remove = (key: string, createdAt: number): Action =>
  ({ kind: "remove_item", cartId: "c", line: { productId: "p", options: {} }, key, createdAt }) as Action;

it("a takeover replays a client's actions in the order it made them, not in the storage's key order", async () => {
  const storage = sortedKeys(new Map());
  const gone = outboxOf(storage, "gone");
  // An add and its removal in one millisecond; then a tap after the clock stepped back.
  await gone.outbox.put(add("z-add", 5_000));
  await gone.outbox.put(remove("m-remove", 5_000));
  await gone.outbox.put(add("a-after-clock-step", 4_000));
  await gone.presence.stop();

  const stays = outboxOf(storage, "stays");
  const claimed = await stays.outbox.claimOrphans(() => false);
  expect(claimed.map((a) => a.key)).toEqual(["z-add", "m-remove", "a-after-clock-step"]);
  await stays.presence.stop();

  // Claimed, they keep that order for the next client that takes them over.
  const next = outboxOf(storage, "next");
  expect((await next.outbox.claimOrphans(() => false)).map((a) => a.key)).toEqual([
    "z-add",
    "m-remove",
    "a-after-clock-step",
  ]);
  await next.presence.stop();
});

it("actions migrated from an older format keep the order they were stored in", async () => {
  const storage = sortedKeys(new Map());
  const { outbox, presence } = outboxOf(storage, "upgraded");
  await outbox.adopt([add("z-add", 5_000), remove("m-remove", 5_000)]);
  await presence.stop();
  const next = outboxOf(storage, "next");
  expect((await next.outbox.claimOrphans(() => false)).map((a) => a.key)).toEqual(["z-add", "m-remove"]);
  await next.presence.stop();
});

/** A store that cannot list its keys: the outbox keeps one shared index record. */
function withoutKeys(map: Map<string, string>): KeyValueStorage {
  const { keys: _, ...rest } = memoryStorage(map);
  // Each call a turn of the event loop, as AsyncStorage's are.
  const later = <T>(value: T) => new Promise<T>((r) => setTimeout(() => r(value), 1));
  return {
    getItem: (key) => later(rest.getItem(key) as string | null),
    setItem: (key, value) => later(rest.setItem(key, value)),
    removeItem: (key) => later(rest.removeItem(key)),
  };
}

it("two leased clients in one process never lose each other's actions from a shared index, nor claim one twice", async () => {
  const storage = withoutKeys(new Map());
  const a = outboxOf(storage, "a");
  const b = outboxOf(storage, "b");
  await Promise.all([0, 1, 2].flatMap((i) => [a.outbox.put(add(`a${i}`, i)), b.outbox.put(add(`b${i}`, i))]));
  await Promise.all([a.presence.stop(), b.presence.stop()]);

  const c = outboxOf(storage, "c");
  const d = outboxOf(storage, "d");
  const [byC, byD] = await Promise.all([c.outbox.claimOrphans(() => false), d.outbox.claimOrphans(() => false)]);
  expect([...byC, ...byD].map((x) => x.key).sort()).toEqual(["a0", "a1", "a2", "b0", "b1", "b2"]);
  await Promise.all([c.presence.stop(), d.presence.stop()]);
});

it("a claim cut short by a failing write keeps what it claimed, and the next scan claims the rest", async () => {
  const map = new Map<string, string>();
  const gone = outboxOf(memoryStorage(map), "gone");
  await gone.outbox.put(add("first", 1_000));
  await gone.outbox.put(add("second", 2_000));
  await gone.presence.stop();

  const inner = memoryStorage(map);
  let failures = 1;
  const flaky: KeyValueStorage = {
    ...inner,
    setItem: (key, value) => {
      if (key.endsWith("/second") && failures-- > 0) throw new Error("the store is busy");
      return inner.setItem(key, value);
    },
  };
  const stays = outboxOf(flaky, "stays");
  const claimed: string[] = [];
  for (let scan = 0; scan < 2; scan++) {
    const found = await stays.outbox.claimOrphans(() => false).catch(() => []);
    claimed.push(...found.map((a) => a.key));
  }
  expect(claimed).toEqual(["first", "second"]);
  await stays.presence.stop();
});
