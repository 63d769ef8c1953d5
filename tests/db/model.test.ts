// Model-based: random sequences of the contract's operations from three staff
// of two stores, run against onecart and against an in-memory model of carts
// and queues written from the contract alone. After every step the real carts
// and queues must equal the model's and the invariants must hold (ops views);
// fast-check shrinks a failing sequence to a short one. With ONECART_RACY=1 it
// runs against tests/racy/naive.sql, the read-modify-write variant.
import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { beforeAll, expect, it } from "vitest";
import { ApiError, fromPostgresError } from "../../functions/_shared/errors.ts";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { stable } from "../helpers/json.ts";
import {
  CUSTOMER_A,
  CUSTOMER_B1,
  LOCATION_A1,
  LOCATION_A2,
  LOCATION_B1,
  MISSING,
  PRODUCT_A,
  PRODUCT_B1,
  STAFF_A1,
  STAFF_A2,
  STAFF_B1,
} from "../helpers/fixture.ts";

type Store = "A" | "B";
const STAFF = [{ id: STAFF_A1, store: "A" }, { id: STAFF_A2, store: "A" }, { id: STAFF_B1, store: "B" }] as const;
const LOCATIONS = [{ id: LOCATION_A1, store: "A" }, { id: LOCATION_A2, store: "A" }, {
  id: LOCATION_B1,
  store: "B",
}] as const;
const CUSTOMERS = [...CUSTOMER_A.map((id) => ({ id, store: "A" as Store })), { id: CUSTOMER_B1, store: "B" as Store }];
const PRODUCTS: Array<{ id: string; store: Store; price: number }> = [];
const DEVICES = ["ipad-1", "ipad-2"];
const OPTIONS: Array<Record<string, unknown>> = [{}, { size: "L" }, { size: "L", shots: 2 }, { note: "oat milk ☕" }];

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
  if (process.env.ONECART_RACY === "1") {
    await db.sql.unsafe(await readFile(new URL("../racy/naive.sql", import.meta.url), "utf8"));
  }
  for (const id of [...PRODUCT_A, PRODUCT_B1]) {
    const [p] = await db.sql`select price_cents::int as price from pos.products where id = ${id}`;
    PRODUCTS.push({ id, store: id === PRODUCT_B1 ? "B" : "A", price: p.price });
  }
});

// ---- the model ------------------------------------------------------------

interface Line {
  id: string | null;
  product: string;
  options: string;
  quantity: number;
  price: number;
}
interface Cart {
  id: string;
  store: Store;
  location: string;
  customer: string | null;
  device: string | null;
  status: "active" | "locked" | "checked_out";
  version: number;
  lines: Line[];
  lock: { ref: string | null; total: number; lockedVersion: number } | null;
  /** The latest lock's token: kept after checkout, cleared by unlock. */
  token: string | null;
  checkoutRef: string | null;
}
interface Entry {
  id: string;
  store: Store;
  location: string;
  customer: string;
  cart: string;
  ticket: number;
  status: "waiting" | "serving" | "done" | "left";
}
interface Model {
  carts: Cart[];
  entries: Entry[];
  tickets: Record<string, number>;
  /** store/key → the first request and its response. */
  keys: Map<string, { request: string; response: unknown }>;
}
type Real = Record<string, never>;

const subtotal = (c: Cart) => c.lines.reduce((sum, l) => sum + l.quantity * l.price, 0);

function cartView(c: Cart) {
  return {
    id: c.id,
    location_id: c.location,
    customer_id: c.customer,
    device_id: c.device,
    status: c.status,
    version: c.version,
    items: c.lines.map((l) => [l.product, l.quantity, l.price, l.options]),
    item_count: c.lines.reduce((sum, l) => sum + l.quantity, 0),
    subtotal_cents: subtotal(c),
    lock: c.status === "locked" && c.lock
      ? { checkout_ref: c.lock.ref, total_cents: c.lock.total, locked_version: c.lock.lockedVersion }
      : null,
  };
}

function snapshotView(s: any) {
  return {
    id: s.id,
    location_id: s.location_id,
    customer_id: s.customer_id,
    device_id: s.device_id,
    status: s.status,
    version: s.version,
    items: s.items.map((i: any) => [i.product_id, i.quantity, i.unit_price_cents, stable(i.options)]),
    item_count: s.item_count,
    subtotal_cents: s.subtotal_cents,
    lock: s.lock &&
      { checkout_ref: s.lock.checkout_ref, total_cents: s.lock.total_cents, locked_version: s.lock.locked_version },
  };
}

function queueView(m: Model, location: string) {
  const live = m.entries.filter((e) => e.location === location && (e.status === "waiting" || e.status === "serving"))
    .sort((a, b) => a.ticket - b.ticket);
  let position = 0;
  return live.map((e) => [e.id, e.customer, e.cart, e.ticket, e.status, e.status === "waiting" ? ++position : null]);
}

function entryView(e: Entry, m: Model) {
  const waiting = m.entries.filter((w) => w.location === e.location && w.status === "waiting" && w.ticket <= e.ticket);
  return [e.id, e.customer, e.cart, e.ticket, e.status, e.status === "waiting" ? waiting.length : null];
}

// ---- running a step ---------------------------------------------------------

type Outcome = { ok: true; value: any } | { ok: false; code: string };

/** What the runs reached, by RPC and answer, printed at the end for whoever reads the run. */
const reached = new Map<string, number>();

async function attempt(staff: number, name: string, args: Record<string, unknown>): Promise<Outcome> {
  let outcome: Outcome;
  try {
    outcome = { ok: true, value: await db.as(STAFF[staff].id).rpc(name as never, args as never) };
  } catch (error) {
    const mapped = error instanceof ApiError ? error : fromPostgresError(error);
    if (!mapped) throw error;
    outcome = { ok: false, code: mapped.code };
  }
  const label = `${name} ${outcome.ok ? "ok" : (outcome as { code: string }).code}`;
  reached.set(label, (reached.get(label) ?? 0) + 1);
  return outcome;
}

/** What the model says a call answers: an error code, or null for success. */
function expectOutcome(
  outcome: Outcome,
  expected: string | null,
  what: string,
): asserts outcome is { ok: true; value: any } {
  expect(outcome.ok ? null : (outcome as { code: string }).code, what).toBe(expected);
}

async function compareEverything(m: Model): Promise<void> {
  for (const cart of m.carts) {
    const real = await db.service.rpc("get_cart", { p_cart_id: cart.id });
    expect(snapshotView(real), `cart ${cart.id}`).toEqual(cartView(cart));
  }
  for (const { id } of LOCATIONS) {
    const real = await db.service.rpc("get_queue", { p_location_id: id });
    expect(
      real.entries.map((e: any) => [e.id, e.customer_id, e.cart_id, e.ticket_number, e.status, e.position]),
      `queue ${id}`,
    ).toEqual(queueView(m, id));
  }
  await assertInvariants(db.sql);
}

/** A command that is always possible; `step` returns what to compare, then everything is compared. */
abstract class Step implements fc.AsyncCommand<Model, Real> {
  check(_m: Readonly<Model>): boolean {
    return true;
  }
  abstract step(m: Model): Promise<void>;
  async run(m: Model): Promise<void> {
    await this.step(m);
    await compareEverything(m);
  }
  abstract toString(): string;
}

const storeOf = (staff: number) => STAFF[staff].store;
const pickCart = (m: Readonly<Model>, i: number) => m.carts[i % m.carts.length];

class GetOrCreateCart extends Step {
  constructor(
    readonly staff: number,
    readonly location: number,
    readonly customer: number | null,
    readonly device: number,
  ) {
    super();
  }
  async step(m: Model) {
    const location = LOCATIONS[this.location];
    const customer = this.customer === null ? null : CUSTOMERS[this.customer];
    const device = DEVICES[this.device];
    const outcome = await attempt(this.staff, "get_or_create_cart", {
      p_location_id: location.id,
      p_customer_id: customer?.id,
      p_device_id: customer ? undefined : device,
    });
    if (location.store !== storeOf(this.staff) || (customer && customer.store !== location.store)) {
      return expectOutcome(outcome, "not_found", this.toString());
    }
    expectOutcome(outcome, null, this.toString());
    let cart = m.carts.find((c) =>
      c.location === location.id && c.status !== "checked_out" &&
      (customer ? c.customer === customer.id : c.customer === null && c.device === device)
    );
    if (!cart) {
      cart = {
        id: outcome.value.id,
        store: location.store,
        location: location.id,
        customer: customer?.id ?? null,
        device: customer ? null : device,
        status: "active",
        version: 1,
        lines: [],
        lock: null,
        token: null,
        checkoutRef: null,
      };
      m.carts.push(cart);
    }
    expect(snapshotView(outcome.value)).toEqual(cartView(cart));
  }
  toString() {
    return `get_or_create_cart(staff ${this.staff}, location ${this.location}, ` +
      `${this.customer === null ? `device ${this.device}` : `customer ${this.customer}`})`;
  }
}

type Expected = "none" | "current" | "stale";
const expectedVersion = (c: Cart, e: Expected) =>
  e === "none" ? undefined : e === "current" ? c.version : c.version + 7;

/** The checks every cart mutation makes once it holds the cart: closed, locked, stale version. */
function cartGate(c: Cart, e: Expected): string | null {
  if (c.status === "checked_out") return "cart_closed";
  if (c.status === "locked") return "cart_locked";
  if (e === "stale") return "version_conflict";
  return null;
}

/** Invariant 7 in the model: null when the call proceeds, else what it must answer. */
function replay(
  m: Model,
  store: Store,
  key: string | null,
  request: unknown,
): { code: string } | { response: unknown } | null {
  if (key === null) return null;
  const seen = m.keys.get(`${store}/${key}`);
  if (!seen) return null;
  return seen.request === stable(request) ? { response: seen.response } : { code: "idempotency_key_reused" };
}

class AddItem extends Step {
  constructor(
    readonly staff: number,
    readonly cart: number,
    readonly product: number,
    readonly quantity: number,
    readonly options: number,
    readonly expected: Expected,
    readonly key: string | null,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.carts.length > 0;
  }
  async step(m: Model) {
    const cart = pickCart(m, this.cart);
    const product = PRODUCTS[this.product];
    const options = OPTIONS[this.options];
    const ev = expectedVersion(cart, this.expected);
    const outcome = await attempt(this.staff, "add_item", {
      p_cart_id: cart.id,
      p_product_id: product.id,
      p_quantity: this.quantity,
      p_options: options,
      p_expected_version: ev,
      p_idempotency_key: this.key ?? undefined,
    });
    if (this.quantity < 1 || this.quantity > 999) return expectOutcome(outcome, "invalid_input", this.toString());
    if (cart.store !== storeOf(this.staff)) return expectOutcome(outcome, "not_found", this.toString());
    const request = { rpc: "add_item", cart: cart.id, product: product.id, quantity: this.quantity, options, ev };
    const replayed = replay(m, cart.store, this.key, request);
    if (replayed && "code" in replayed) return expectOutcome(outcome, replayed.code, this.toString());
    if (replayed) {
      expectOutcome(outcome, null, this.toString());
      return void expect(outcome.value).toEqual(replayed.response);
    }
    if (product.store !== cart.store) return expectOutcome(outcome, "not_found", this.toString());
    const gate = cartGate(cart, this.expected);
    if (gate) return expectOutcome(outcome, gate, this.toString());
    const line = cart.lines.find((l) => l.product === product.id && l.options === stable(options));
    if ((line?.quantity ?? 0) + this.quantity > 9999 || (!line && cart.lines.length >= 200)) {
      return expectOutcome(outcome, "limit_exceeded", this.toString());
    }
    expectOutcome(outcome, null, this.toString());
    if (line) line.quantity += this.quantity;
    else {
      const id = outcome.value.items.find((i: any) =>
        i.product_id === product.id && stable(i.options) === stable(options)
      )
        ?.id;
      cart.lines.push({
        id,
        product: product.id,
        options: stable(options),
        quantity: this.quantity,
        price: product.price,
      });
    }
    cart.version++;
    expect(snapshotView(outcome.value)).toEqual(cartView(cart));
    if (this.key) m.keys.set(`${cart.store}/${this.key}`, { request: stable(request), response: outcome.value });
  }
  toString() {
    return `add_item(staff ${this.staff}, cart ${this.cart}, product ${this.product}, qty ${this.quantity}, ` +
      `options ${this.options}, expected ${this.expected}, key ${this.key})`;
  }
}

class SetItemQuantity extends Step {
  constructor(
    readonly staff: number,
    readonly cart: number,
    readonly line: number | null,
    readonly quantity: number,
    readonly expected: Expected,
    readonly key: string | null,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.carts.length > 0;
  }
  async step(m: Model) {
    const cart = pickCart(m, this.cart);
    const line = this.line === null || cart.lines.length === 0 ? null : cart.lines[this.line % cart.lines.length];
    const itemId = line?.id ?? MISSING;
    const ev = expectedVersion(cart, this.expected);
    const outcome = await attempt(this.staff, "set_item_quantity", {
      p_cart_id: cart.id,
      p_item_id: itemId,
      p_quantity: this.quantity,
      p_expected_version: ev,
      p_idempotency_key: this.key ?? undefined,
    });
    if (this.quantity < 0) return expectOutcome(outcome, "invalid_input", this.toString());
    if (this.quantity > 9999) return expectOutcome(outcome, "limit_exceeded", this.toString());
    if (cart.store !== storeOf(this.staff)) return expectOutcome(outcome, "not_found", this.toString());
    const request = { rpc: "set_item_quantity", cart: cart.id, item: itemId, quantity: this.quantity, ev };
    const replayed = replay(m, cart.store, this.key, request);
    if (replayed && "code" in replayed) return expectOutcome(outcome, replayed.code, this.toString());
    if (replayed) {
      expectOutcome(outcome, null, this.toString());
      return void expect(outcome.value).toEqual(replayed.response);
    }
    const gate = cartGate(cart, this.expected);
    if (gate) return expectOutcome(outcome, gate, this.toString());
    if (!line) return expectOutcome(outcome, "not_found", this.toString());
    expectOutcome(outcome, null, this.toString());
    if (this.quantity === 0) cart.lines.splice(cart.lines.indexOf(line), 1);
    else line.quantity = this.quantity;
    cart.version++;
    expect(snapshotView(outcome.value)).toEqual(cartView(cart));
    if (this.key) m.keys.set(`${cart.store}/${this.key}`, { request: stable(request), response: outcome.value });
  }
  toString() {
    return `set_item_quantity(staff ${this.staff}, cart ${this.cart}, line ${this.line}, qty ${this.quantity}, ` +
      `expected ${this.expected}, key ${this.key})`;
  }
}

class RemoveItem extends Step {
  constructor(
    readonly staff: number,
    readonly cart: number,
    readonly line: number | null,
    readonly expected: Expected,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.carts.length > 0;
  }
  async step(m: Model) {
    const cart = pickCart(m, this.cart);
    const line = this.line === null || cart.lines.length === 0 ? null : cart.lines[this.line % cart.lines.length];
    const outcome = await attempt(this.staff, "remove_item", {
      p_cart_id: cart.id,
      p_item_id: line?.id ?? MISSING,
      p_expected_version: expectedVersion(cart, this.expected),
    });
    if (cart.store !== storeOf(this.staff)) return expectOutcome(outcome, "not_found", this.toString());
    const gate = cartGate(cart, this.expected);
    if (gate) return expectOutcome(outcome, gate, this.toString());
    if (!line) return expectOutcome(outcome, "not_found", this.toString());
    expectOutcome(outcome, null, this.toString());
    cart.lines.splice(cart.lines.indexOf(line), 1);
    cart.version++;
    expect(snapshotView(outcome.value)).toEqual(cartView(cart));
  }
  toString() {
    return `remove_item(staff ${this.staff}, cart ${this.cart}, line ${this.line}, expected ${this.expected})`;
  }
}

class LockCart extends Step {
  constructor(readonly staff: number, readonly cart: number, readonly ref: string | null, readonly expected: Expected) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.carts.length > 0;
  }
  async step(m: Model) {
    const cart = pickCart(m, this.cart);
    const outcome = await attempt(this.staff, "lock_cart", {
      p_cart_id: cart.id,
      p_checkout_ref: this.ref ?? undefined,
      p_ttl_seconds: 3600,
      p_expected_version: expectedVersion(cart, this.expected),
    });
    if (cart.store !== storeOf(this.staff)) return expectOutcome(outcome, "not_found", this.toString());
    if (cart.status === "checked_out") return expectOutcome(outcome, "cart_closed", this.toString());
    if (cart.status === "locked") {
      // The same checkout asking again gets the lock it holds, whatever version it saw.
      if (this.ref === null || cart.lock?.ref !== this.ref) {
        return expectOutcome(outcome, "cart_locked", this.toString());
      }
      expectOutcome(outcome, null, this.toString());
      expect(outcome.value.lock.token).toBe(cart.token);
      return void expect(snapshotView(outcome.value)).toEqual(cartView(cart));
    }
    if (this.expected === "stale") return expectOutcome(outcome, "version_conflict", this.toString());
    if (cart.lines.length === 0) return expectOutcome(outcome, "cart_empty", this.toString());
    expectOutcome(outcome, null, this.toString());
    cart.version++;
    cart.status = "locked";
    cart.lock = { ref: this.ref, total: subtotal(cart), lockedVersion: cart.version };
    cart.token = outcome.value.lock.token;
    expect(snapshotView(outcome.value)).toEqual(cartView(cart));
  }
  toString() {
    return `lock_cart(staff ${this.staff}, cart ${this.cart}, ref ${this.ref}, expected ${this.expected})`;
  }
}

/** The checks of update_cart_lock and unlock_cart: the token must hold a live lock. */
function tokenGate(cart: Cart, rightToken: boolean): string | null {
  if (cart.status === "checked_out") return "cart_closed";
  if (cart.status !== "locked" || !rightToken) return "lock_mismatch";
  return null;
}

class UpdateCartLock extends Step {
  constructor(readonly staff: number, readonly cart: number, readonly rightToken: boolean, readonly ref: string) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.carts.length > 0;
  }
  async step(m: Model) {
    const cart = pickCart(m, this.cart);
    const token = this.rightToken && cart.token ? cart.token : MISSING;
    const outcome = await attempt(this.staff, "update_cart_lock", {
      p_cart_id: cart.id,
      p_lock_token: token,
      p_checkout_ref: this.ref,
    });
    if (cart.store !== storeOf(this.staff)) return expectOutcome(outcome, "not_found", this.toString());
    const gate = tokenGate(cart, token === cart.token);
    if (gate) return expectOutcome(outcome, gate, this.toString());
    expectOutcome(outcome, null, this.toString());
    cart.version++;
    cart.lock!.ref = this.ref;
    expect(snapshotView(outcome.value)).toEqual(cartView(cart));
  }
  toString() {
    return `update_cart_lock(staff ${this.staff}, cart ${this.cart}, right token ${this.rightToken}, ref ${this.ref})`;
  }
}

class UnlockCart extends Step {
  constructor(readonly staff: number, readonly cart: number, readonly rightToken: boolean) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.carts.length > 0;
  }
  async step(m: Model) {
    const cart = pickCart(m, this.cart);
    const token = this.rightToken && cart.token ? cart.token : MISSING;
    const outcome = await attempt(this.staff, "unlock_cart", { p_cart_id: cart.id, p_lock_token: token });
    if (cart.store !== storeOf(this.staff)) return expectOutcome(outcome, "not_found", this.toString());
    const gate = tokenGate(cart, token === cart.token);
    if (gate) return expectOutcome(outcome, gate, this.toString());
    expectOutcome(outcome, null, this.toString());
    cart.version++;
    cart.status = "active";
    cart.lock = null;
    cart.token = null;
    expect(snapshotView(outcome.value)).toEqual(cartView(cart));
  }
  toString() {
    return `unlock_cart(staff ${this.staff}, cart ${this.cart}, right token ${this.rightToken})`;
  }
}

class CompleteCheckout extends Step {
  constructor(
    readonly staff: number,
    readonly cart: number,
    readonly rightToken: boolean,
    readonly rightTotal: boolean,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.carts.length > 0;
  }
  async step(m: Model) {
    const cart = pickCart(m, this.cart);
    const token = this.rightToken && cart.token ? cart.token : MISSING;
    const total = (cart.lock?.total ?? subtotal(cart)) + (this.rightTotal ? 0 : 1);
    const outcome = await attempt(this.staff, "complete_checkout", {
      p_cart_id: cart.id,
      p_lock_token: token,
      p_checkout_ref: "paid",
      p_paid_total_cents: total,
    });
    if (cart.store !== storeOf(this.staff)) return expectOutcome(outcome, "not_found", this.toString());
    if (cart.status === "checked_out" && token === cart.token && cart.checkoutRef === "paid") {
      // The terminal retrying a checkout that went through: the same cart, nothing changes.
      expectOutcome(outcome, null, this.toString());
      return void expect(snapshotView(outcome.value)).toEqual(cartView(cart));
    }
    if (cart.status === "checked_out") return expectOutcome(outcome, "cart_closed", this.toString());
    if (token !== cart.token) return expectOutcome(outcome, "lock_mismatch", this.toString());
    if (total !== cart.lock!.total) return expectOutcome(outcome, "total_mismatch", this.toString());
    expectOutcome(outcome, null, this.toString());
    cart.version++;
    cart.status = "checked_out";
    cart.checkoutRef = "paid";
    for (const e of m.entries) {
      if (
        e.location === cart.location && e.customer === cart.customer &&
        (e.status === "waiting" || e.status === "serving")
      ) {
        e.status = "done";
      }
    }
    expect(snapshotView(outcome.value)).toEqual(cartView(cart));
  }
  toString() {
    return `complete_checkout(staff ${this.staff}, cart ${this.cart}, right token ${this.rightToken}, ` +
      `right total ${this.rightTotal})`;
  }
}

class AddToQueue extends Step {
  constructor(readonly staff: number, readonly location: number, readonly customer: number) {
    super();
  }
  async step(m: Model) {
    const location = LOCATIONS[this.location];
    const customer = CUSTOMERS[this.customer];
    const outcome = await attempt(this.staff, "add_to_queue", {
      p_location_id: location.id,
      p_customer_id: customer.id,
    });
    if (location.store !== storeOf(this.staff) || customer.store !== location.store) {
      return expectOutcome(outcome, "not_found", this.toString());
    }
    expectOutcome(outcome, null, this.toString());
    let cart = m.carts.find((c) =>
      c.location === location.id && c.customer === customer.id && c.status !== "checked_out"
    );
    if (!cart) {
      cart = {
        id: outcome.value.cart.id,
        store: location.store,
        location: location.id,
        customer: customer.id,
        device: null,
        status: "active",
        version: 1,
        lines: [],
        lock: null,
        token: null,
        checkoutRef: null,
      };
      m.carts.push(cart);
    }
    let entry = m.entries.find((e) =>
      e.location === location.id && e.customer === customer.id &&
      (e.status === "waiting" || e.status === "serving")
    );
    if (!entry) {
      m.tickets[location.id] = (m.tickets[location.id] ?? 0) + 1;
      entry = {
        id: outcome.value.entry.id,
        store: location.store,
        location: location.id,
        customer: customer.id,
        cart: cart.id,
        ticket: m.tickets[location.id],
        status: "waiting",
      };
      m.entries.push(entry);
    }
    const e = outcome.value.entry;
    expect([e.id, e.customer_id, e.cart_id, e.ticket_number, e.status, e.position]).toEqual(entryView(entry, m));
    expect(snapshotView(outcome.value.cart)).toEqual(cartView(cart));
  }
  toString() {
    return `add_to_queue(staff ${this.staff}, location ${this.location}, customer ${this.customer})`;
  }
}

class CallNext extends Step {
  constructor(readonly staff: number, readonly location: number) {
    super();
  }
  async step(m: Model) {
    const location = LOCATIONS[this.location];
    const outcome = await attempt(this.staff, "call_next", { p_location_id: location.id });
    if (location.store !== storeOf(this.staff)) return expectOutcome(outcome, "not_found", this.toString());
    expectOutcome(outcome, null, this.toString());
    const next = m.entries.filter((e) => e.location === location.id && e.status === "waiting")
      .sort((a, b) => a.ticket - b.ticket)[0];
    if (!next) return void expect(outcome.value).toBeNull();
    next.status = "serving";
    const e = outcome.value;
    expect([e.id, e.customer_id, e.cart_id, e.ticket_number, e.status, e.position]).toEqual(entryView(next, m));
  }
  toString() {
    return `call_next(staff ${this.staff}, location ${this.location})`;
  }
}

class FinishEntry extends Step {
  constructor(readonly staff: number, readonly entry: number, readonly how: "complete_queue_entry" | "leave_queue") {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.entries.length > 0;
  }
  async step(m: Model) {
    const entry = m.entries[this.entry % m.entries.length];
    const outcome = await attempt(this.staff, this.how, { p_entry_id: entry.id });
    if (entry.store !== storeOf(this.staff)) return expectOutcome(outcome, "not_found", this.toString());
    expectOutcome(outcome, null, this.toString());
    // done and left are final: finishing again answers the entry as it is.
    if (entry.status === "waiting" || entry.status === "serving") {
      entry.status = this.how === "complete_queue_entry" ? "done" : "left";
    }
    const e = outcome.value;
    expect([e.id, e.customer_id, e.cart_id, e.ticket_number, e.status, e.position]).toEqual(entryView(entry, m));
  }
  toString() {
    return `${this.how}(staff ${this.staff}, entry ${this.entry})`;
  }
}

// ---- generating sequences ---------------------------------------------------

const staff = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.constant(2) });
// Mostly store A, whose staff share two locations; store B's staff probe the boundary.
const location = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.constant(2) });
const customer = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1, 2) }, { weight: 1, arbitrary: fc.constant(3) });
const product = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) }, {
  weight: 1,
  arbitrary: fc.constant(5),
});
const cart = fc.nat({ max: 20 });
const expected = fc.constantFrom<Expected>("none", "none", "current", "stale");
const key = fc.option(fc.constantFrom("tap-1", "tap-2", "tap-3"), { freq: 2, nil: null });
const quantity = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 999 }) }, {
  weight: 1,
  arbitrary: fc.constantFrom(0, 1000, -3),
});

const commands = [
  fc.tuple(staff, location, fc.option(customer, { nil: null }), fc.nat({ max: 1 }))
    .map(([s, l, c, d]) => new GetOrCreateCart(s, l, c, d)),
  fc.tuple(staff, cart, product, quantity, fc.nat({ max: OPTIONS.length - 1 }), expected, key)
    .map(([s, c, p, q, o, e, k]) => new AddItem(s, c, p, q, o, e, k)),
  // The most a call may add, to one line: with set_item_quantity to 9,999 it reaches the line limit.
  fc.tuple(staff, cart).map(([s, c]) => new AddItem(s, c, 0, 999, 0, "none", null)),
  fc.tuple(
    staff,
    cart,
    fc.option(fc.nat({ max: 5 }), { freq: 6, nil: null }),
    fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 30 }) }, {
      weight: 1,
      arbitrary: fc.constantFrom(-1, 9999, 10000),
    }),
    expected,
    key,
  ).map(([s, c, l, q, e, k]) => new SetItemQuantity(s, c, l, q, e, k)),
  fc.tuple(staff, cart, fc.option(fc.nat({ max: 5 }), { freq: 6, nil: null }), expected)
    .map(([s, c, l, e]) => new RemoveItem(s, c, l, e)),
  fc.tuple(staff, cart, fc.constantFrom(null, "pay-1", "pay-2"), expected).map(([s, c, r, e]) =>
    new LockCart(s, c, r, e)
  ),
  fc.tuple(staff, cart, fc.boolean(), fc.constantFrom("pay-1", "pay-3"))
    .map(([s, c, t, r]) => new UpdateCartLock(s, c, t, r)),
  fc.tuple(staff, cart, fc.boolean()).map(([s, c, t]) => new UnlockCart(s, c, t)),
  fc.tuple(staff, cart, fc.boolean(), fc.boolean()).map(([s, c, t, p]) => new CompleteCheckout(s, c, t, p)),
  fc.tuple(staff, location, customer).map(([s, l, c]) => new AddToQueue(s, l, c)),
  fc.tuple(staff, location).map(([s, l]) => new CallNext(s, l)),
  fc.tuple(
    staff,
    fc.nat({ max: 10 }),
    fc.constantFrom("complete_queue_entry", "leave_queue") as fc.Arbitrary<
      "complete_queue_entry" | "leave_queue"
    >,
  ).map(([s, e, h]) => new FinishEntry(s, e, h)),
];

async function resetDatabase() {
  await db.sql`truncate pos.cart_events, pos.cart_items, pos.queue_entries, pos.idempotency_keys, pos.carts cascade`;
  await db.sql`update pos.locations set last_ticket_number = 0`;
}

it("onecart behaves as the contract's model through random sequences from three staff of two stores", async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: "max" }), async (sequence) => {
      await resetDatabase();
      await fc.asyncModelRun(
        () => ({ model: { carts: [], entries: [], tickets: {}, keys: new Map() }, real: {} }),
        sequence,
      );
    }),
    { numRuns: 25 },
  );
  console.log([...reached].sort().map(([k, n]) => `${k}: ${n}`).join(", "));
}, 180_000);
