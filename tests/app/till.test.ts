// The reference POS app as a shop uses it, in real Chromium: an iPad and a Mac
// signed in through supabase-js Auth, over the real functions, Realtime and
// Postgres. Skipped, loudly, where no Chromium is installed.
import type { BrowserContext } from "playwright-core";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureAppBuilt } from "../../scripts/lib/app.ts";
import { repoRoot } from "../../scripts/lib/database.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { chromiumPath, launchBrowser, newDevice } from "../helpers/browser.ts";
import {
  CUSTOMER_A,
  LOCAL_PASSWORD,
  LOCATION_A1,
  PRODUCT_A,
  STAFF_A1,
  STAFF_A2,
  STAFF_EMAILS,
} from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import * as till from "../helpers/till.ts";

const SHOTS = join(repoRoot, process.env.ONECART_RECORD_SCREENSHOTS === "1" ? "docs/screenshots" : "tmp/screenshots");

let db: TestDatabase;
let server: TestServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

describe.skipIf(!chromiumPath)("the POS app in Chromium", () => {
  beforeAll(async () => {
    await ensureAppBuilt();
    db = await freshDatabase();
    server = await startTestServer(db);
    browser = await launchBrowser();
  });

  const signIn = (context: BrowserContext, userId: string) => till.signIn(context, server.apiUrl, userId);
  const openCustomerCart = till.openCustomerCart;
  const qty = till.qty;
  const productName = (n: number) => till.productName(db, PRODUCT_A[n]);
  const expectNoSeriousViolations = till.expectNoSeriousViolations;

  async function openCart(customerId: string) {
    return (await db.sql`select id, version, status from pos.carts
      where customer_id = ${customerId} and status in ('active', 'locked')`);
  }

  it("an add on the iPad shows on the Mac, and 20 fast taps give 20 units, once each", async () => {
    const ipad = await signIn(await newDevice(browser, "ipad"), STAFF_A1);
    const mac = await signIn(await newDevice(browser, "mac"), STAFF_A2);
    await openCustomerCart(ipad, CUSTOMER_A[0]);
    await openCustomerCart(mac, CUSTOMER_A[0]);

    const name = await productName(0);
    const tapped = Date.now();
    await ipad.getByRole("button", { name: new RegExp(`^Add ${name},`) }).click();
    await expect.poll(() => qty(mac, PRODUCT_A[0]).textContent(), { timeout: 10_000 }).toBe("1");
    console.log(`tap on the iPad to the Mac's screen: ${Date.now() - tapped} ms`);

    const other = await productName(1);
    const button = ipad.getByRole("button", { name: new RegExp(`^Add ${other},`) });
    for (let i = 0; i < 20; i++) await button.click({ delay: 0 });
    await expect.poll(() => qty(mac, PRODUCT_A[1]).textContent(), { timeout: 15_000 }).toBe("20");
    await expect.poll(() => qty(ipad, PRODUCT_A[1]).textContent(), { timeout: 15_000 }).toBe("20");
    await ipad.getByTestId("pending-count").waitFor({ state: "detached" });

    const [cart] = await openCart(CUSTOMER_A[0]);
    const [line] = await db.sql`select quantity from pos.cart_items where cart_id = ${cart.id} and product_id = ${
      PRODUCT_A[1]
    }`;
    expect(line.quantity).toBe(20);
    const adds = await db
      .sql`select count(*)::int as n from pos.cart_events where cart_id = ${cart.id} and kind = 'item_added'`;
    expect(adds[0].n).toBe(21); // 1 + 20: each tap applied once
    await expect.poll(() => mac.locator("section.cart").getAttribute("data-version")).toBe(String(cart.version));

    await mkdir(SHOTS, { recursive: true });
    await ipad.screenshot({ path: join(SHOTS, "pos-ipad.png") });
    await mac.screenshot({ path: join(SHOTS, "pos-mac.png") });
    await expectNoSeriousViolations(ipad, "the till on an iPad");
    await expectNoSeriousViolations(mac, "the till on a Mac");
    await ipad.context().close();
    await mac.context().close();
  }, 120_000);

  it(
    "the paying till and the other both turn editing off under the lock; the receipt leads to the next customer",
    async () => {
      const ipad = await signIn(await newDevice(browser, "ipadAir"), STAFF_A1);
      const mac = await signIn(await newDevice(browser, "mac"), STAFF_A2);
      const customer = CUSTOMER_A[1];

      // The customer joins the queue on the Mac and is called on the iPad.
      await mac.getByLabel("Customer to add").selectOption(customer);
      await mac.getByRole("button", { name: "Add to queue" }).click();
      await ipad.getByRole("listitem", { name: /^Ticket \d+/ }).first().waitFor();
      await ipad.getByRole("button", { name: "Call next" }).click();
      await mac.getByText(/Being served/).waitFor();

      await openCustomerCart(ipad, customer);
      await openCustomerCart(mac, customer);
      const name = await productName(2);
      await ipad.getByRole("button", { name: new RegExp(`^Add ${name},`) }).click();
      await expect.poll(() => qty(mac, PRODUCT_A[2]).textContent(), { timeout: 10_000 }).toBe("1");

      await ipad.getByRole("button", { name: "Checkout" }).click();
      // The paying device says the checkout is its own; the other shows the lock; neither can edit.
      await ipad.getByText("Checkout in progress on this till").waitFor();
      await mac.getByText("Being paid on another till").waitFor();
      for (const page of [ipad, mac]) {
        expect(await page.getByRole("button", { name: new RegExp(`^Add ${name},`) }).isDisabled()).toBe(true);
        expect(await page.getByRole("button", { name: `Remove ${name}` }).isDisabled()).toBe(true);
        expect(await page.getByRole("button", { name: `One more ${name}` }).isDisabled()).toBe(true);
        expect(await page.getByTestId("cart-status").textContent()).toBe("Being paid");
      }
      await expectNoSeriousViolations(mac, "a cart being paid on another till");
      await mkdir(SHOTS, { recursive: true });
      await ipad.screenshot({ path: join(SHOTS, "pos-checkout-ipad.png") });
      await mac.screenshot({ path: join(SHOTS, "pos-being-paid-mac.png") });

      // A double-tap takes one payment: the second tap finds the button off.
      await ipad.getByRole("button", { name: /^Take card payment/ }).dblclick();
      await ipad.getByText(/^Paid \$.* by card \(pay_sim_/).waitFor();
      await mac.getByText(/^Paid \$.* on another till/).waitFor();
      await expect.poll(async () => (await ipad.getByText(/Being served/).count()), { timeout: 10_000 }).toBe(0);
      await expect.poll(async () => (await mac.getByText(/Being served/).count()), { timeout: 10_000 }).toBe(0);

      const [entry] = await db.sql`select status from pos.queue_entries where customer_id = ${customer}`;
      expect(entry.status).toBe("done");
      const [cart] = await db.sql`select status, subtotal_cents from pos.carts where customer_id = ${customer}
      order by created_at desc limit 1`;
      expect(cart.status).toBe("checked_out");
      await expectNoSeriousViolations(ipad, "the receipt");
      await ipad.screenshot({ path: join(SHOTS, "pos-receipt-ipad.png") });
      // The receipt stays through a switch of screens and a reload, and leads on to the next customer.
      await ipad.reload();
      await ipad.getByRole("heading", { name: /^Paid:/ }).waitFor();
      // A double-tap on "Next customer" leaves the till with no cart open, not a stray walk-in sale.
      const walkIns = () =>
        db.sql`select count(*)::int as n from pos.carts where customer_id is null and location_id = ${LOCATION_A1}`;
      const before = (await walkIns())[0].n;
      await ipad.getByRole("button", { name: "Next customer" }).dblclick();
      await ipad.getByRole("heading", { name: "No cart open" }).waitFor();
      await ipad.waitForLoadState("networkidle");
      expect((await walkIns())[0].n).toBe(before);
      till.expectNoConsoleErrors(ipad, "a sale on the iPad");
      till.expectNoConsoleErrors(mac, "a sale on the Mac");
      await ipad.context().close();
      await mac.context().close();
    },
    120_000,
  );

  it("a device that goes offline keeps its 5 actions and both devices show them once when it returns", async () => {
    const ipadContext = await newDevice(browser, "ipad");
    const ipad = await signIn(ipadContext, STAFF_A1);
    const mac = await signIn(await newDevice(browser, "mac"), STAFF_A2);
    const customer = CUSTOMER_A[2];
    await openCustomerCart(ipad, customer);
    await openCustomerCart(mac, customer);

    await ipadContext.setOffline(true);
    await ipad.getByText("Offline:").waitFor();
    expect(await ipad.getByRole("button", { name: "Checkout" }).isDisabled()).toBe(true);
    const names = [await productName(0), await productName(3), await productName(4)];
    for (const [n, product] of [[0, 0], [1, 3], [2, 4], [0, 0], [1, 3]] as const) {
      void product;
      await ipad.getByRole("button", { name: new RegExp(`^Add ${names[n]},`) }).click();
    }
    await expect.poll(() => ipad.getByTestId("pending-count").textContent()).toBe("5 taps to send");
    expect(await mac.locator("section.cart").getAttribute("data-version")).toBe("1");

    await ipadContext.setOffline(false);
    for (const page of [ipad, mac]) {
      await expect.poll(() => qty(page, PRODUCT_A[0]).textContent(), { timeout: 20_000 }).toBe("2");
      await expect.poll(() => qty(page, PRODUCT_A[3]).textContent(), { timeout: 20_000 }).toBe("2");
      await expect.poll(() => qty(page, PRODUCT_A[4]).textContent(), { timeout: 20_000 }).toBe("1");
    }
    await ipad.getByTestId("pending-count").waitFor({ state: "detached" });
    const [cart] = await openCart(customer);
    expect(Number(cart.version)).toBe(6); // created + 5 adds, each once
    await ipadContext.close();
    await mac.context().close();
  }, 120_000);

  it("two devices opening the same customer's cart at the same moment get one cart", async () => {
    const [customer] = await db.sql`insert into pos.customers (store_id, name)
      select store_id, 'Dana Simultaneous' from pos.locations where id = ${LOCATION_A1} returning id`;
    const ipad = await signIn(await newDevice(browser, "ipad"), STAFF_A1);
    const mac = await signIn(await newDevice(browser, "mac"), STAFF_A2);
    // The new customer is in the store's list after a reload of the home data.
    await Promise.all([ipad.reload(), mac.reload()]);
    await Promise.all([ipad, mac].map((p) => p.getByRole("heading", { name: "Queue" }).waitFor()));
    await Promise.all([openCustomerCart(ipad, customer.id), openCustomerCart(mac, customer.id)]);
    expect(await openCart(customer.id)).toHaveLength(1);
    const all = await db.sql`select count(*)::int as n from pos.carts where customer_id = ${customer.id}`;
    expect(all[0].n).toBe(1);
    await ipad.context().close();
    await mac.context().close();
  }, 120_000);

  it(
    "an owner's Store health screen shows today's figures and a stuck lock, and releases it with a reason",
    async () => {
      const ann = db.as(STAFF_A1);
      let cart = await ann.rpc("get_or_create_cart", { p_location_id: LOCATION_A1, p_device_id: "till-health" });
      cart = await ann.rpc("add_item", { p_cart_id: cart.id, p_product_id: PRODUCT_A[0] });
      await ann.rpc("lock_cart", { p_cart_id: cart.id, p_checkout_ref: "terminal-7", p_ttl_seconds: 60 });
      // The terminal never came back: the lock ran out five minutes ago and nothing touched the cart since.
      await db.sql`update pos.carts set lock_expires_at = now() - interval '5 minutes' where id = ${cart.id}`;

      const page = await signIn(await newDevice(browser, "mac"), STAFF_A1);
      await page.getByRole("button", { name: "Store health" }).click();
      await page.getByRole("heading", { name: /^Store health/ }).waitFor();
      const figure = (label: string) => page.locator(".headline div", { hasText: label }).locator("dd");
      await expect.poll(() => figure("Changes to carts").textContent()).not.toBe("0");
      await page.getByText("Checkout lock expired but not released").waitFor();
      await page.getByRole("img", { name: /by hour today/ }).waitFor();
      // What needs a person comes before the figures.
      const [alerts, today] = await Promise.all([
        page.getByRole("heading", { name: "Needs a person now" }).boundingBox(),
        page.getByRole("heading", { name: "Today" }).boundingBox(),
      ]);
      expect(alerts!.y).toBeLessThan(today!.y);
      await expectNoSeriousViolations(page, "store health");
      await mkdir(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, "pos-health-mac.png"), fullPage: true });
      const portrait = await signIn(await newDevice(browser, "ipadPortrait"), STAFF_A1);
      await portrait.getByRole("button", { name: "Store health" }).click();
      await portrait.getByText("Checkout lock expired but not released").waitFor();
      await portrait.getByRole("img", { name: /by hour today/ }).waitFor();
      expect(await portrait.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(810);
      await portrait.screenshot({ path: join(SHOTS, "pos-health-ipad-portrait.png"), fullPage: true });
      await expectNoSeriousViolations(portrait, "store health on an iPad in portrait");
      till.expectNoConsoleErrors(portrait, "store health on an iPad in portrait");
      await portrait.context().close();

      await page.getByRole("button", { name: "Release lock" }).click();
      await page.getByLabel(/^Reason for/).fill("terminal 7 lost power during the payment");
      await page.getByRole("button", { name: "Apply" }).click();
      await page.getByText("Release lock: done.").waitFor();
      await expect.poll(() => page.getByText("Checkout lock expired but not released").count()).toBe(0);
      till.expectNoConsoleErrors(page, "store health on a Mac");

      const [after] = await db.sql`select status from pos.carts where id = ${cart.id}`;
      expect(after.status).toBe("active");
      const [event] = await db.sql`select kind, actor_id, data from pos.cart_events
      where cart_id = ${cart.id} order by version desc limit 1`;
      expect(event).toMatchObject({ kind: "unlocked", actor_id: STAFF_A1 });
      expect(event.data).toMatchObject({ by_ops: true, reason: "terminal 7 lost power during the payment" });
      await page.context().close();
    },
    120_000,
  );

  it("staff see no Store health screen; the sign-in page has no serious accessibility violations", async () => {
    const context = await newDevice(browser, "ipad");
    const page = await till.openTill(context, server.apiUrl);
    await page.getByLabel("E-mail").waitFor();
    await expectNoSeriousViolations(page, "the sign-in page");
    await page.getByLabel("E-mail").fill(STAFF_EMAILS[STAFF_A2]);
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "do not match" }).waitFor();
    await page.getByLabel("Password").fill(LOCAL_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Queue" }).waitFor();
    expect(await page.getByRole("button", { name: "Store health" }).count()).toBe(0);
    // The empty queue: "Call next" is off and says why.
    expect(await page.getByRole("button", { name: "Call next" }).isDisabled()).toBe(true);
    const why = await page.getByRole("button", { name: "Call next" }).getAttribute("aria-describedby");
    expect(await page.locator(`#${why}`).textContent()).toBe("No one is waiting.");
    till.expectNoConsoleErrors(page, "sign-in and the till", [/status of 400/]);
    await context.close();
  }, 60_000);
});
