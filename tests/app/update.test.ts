// A new version of the till deployed while a device has pending taps: the new
// service worker waits, the till says "Update ready" and never reloads under
// the cashier; asked to update, it waits for the taps to be sent, then takes
// the new version. Nothing is lost or doubled on the server.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appDist, ensureAppBuilt } from "../../scripts/lib/app.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { chromiumPath, launchBrowser, newDevice } from "../helpers/browser.ts";
import { CUSTOMER_A, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import * as till from "../helpers/till.ts";

let db: TestDatabase;
let server: TestServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let dist: string;

/**
 * Deploys "the next version" over the served copy: a changed page, and the
 * worker's precache revision of it changed to match (what a rebuild would do),
 * so the browser finds a new worker byte for byte.
 */
async function deployNextVersion(dir: string, build = "next"): Promise<void> {
  const html = await readFile(join(dir, "index.html"), "utf8");
  await writeFile(
    join(dir, "index.html"),
    html.replace("<head>", `<head>\n    <meta name="onecart-build" content="${build}" />`),
  );
  const sw = await readFile(join(dir, "sw.js"), "utf8");
  const next = sw.replace(/("?url"?:\s*"index\.html",\s*"?revision"?:\s*")[0-9a-z]+"/, `$1${build}"`);
  expect(next).not.toBe(sw);
  await writeFile(join(dir, "sw.js"), next);
}

describe.skipIf(!chromiumPath)("a new version of the till, in Chromium", () => {
  beforeAll(async () => {
    await ensureAppBuilt();
    dist = await mkdtemp(join(tmpdir(), "onecart-dist-"));
    await cp(appDist, dist, { recursive: true });
    db = await freshDatabase();
    server = await startTestServer(db, { env: { ONECART_APP_DIST: dist } });
    browser = await launchBrowser();
  });
  afterAll(() => rm(dist, { recursive: true, force: true }));

  it("waits for the pending taps, then updates: nothing lost, nothing doubled", async () => {
    const context = await newDevice(browser, "ipad");
    const page = await till.signIn(context, server.apiUrl, STAFF_A1);
    await till.openCustomerCart(page, CUSTOMER_A[0]);
    await till.controlledByWorker(page);
    const [cart] = await db.sql`select id from pos.carts where customer_id = ${CUSTOMER_A[0]} and status = 'active'`;
    const name = await till.productName(db, PRODUCT_A[0]);

    // onecart is out of reach (the till's own files are not): taps wait.
    const cut = (route: { abort: (code: string) => Promise<void> }) => route.abort("connectionrefused");
    await context.route(/\/(functions|rest)\/v1\//, cut);
    for (let i = 0; i < 3; i++) await till.addButton(page, name).click();
    await expect.poll(() => page.getByTestId("pending-count").textContent()).toBe("3 taps to send");

    await deployNextVersion(dist);
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    const update = page.getByRole("button", { name: "Update ready" });
    await update.waitFor({ timeout: 20_000 });
    // Marks this page: gone after a reload, so it proves none happened.
    await page.evaluate(() => ((window as unknown as { sameRun: boolean }).sameRun = true));
    await update.click();
    await page.getByRole("button", { name: "Update waits for 3 pending taps" }).waitFor();
    await page.waitForTimeout(1_000);
    expect(await page.evaluate(() => (window as unknown as { sameRun?: boolean }).sameRun)).toBe(true);
    expect(await page.locator('meta[name="onecart-build"]').count()).toBe(0);

    await context.unroute(/\/(functions|rest)\/v1\//, cut);
    // The taps are sent, then the new version takes over the page.
    await page.waitForFunction(() => document.querySelector('meta[name="onecart-build"]') !== null, undefined, {
      timeout: 30_000,
    });
    await page.getByRole("heading", { name: /^Cart:/ }).waitFor();
    expect(await till.qty(page, PRODUCT_A[0]).textContent()).toBe("3");
    const [events] = await db.sql`select count(*)::int as n from pos.cart_events
      where cart_id = ${cart.id} and kind = 'item_added'`;
    expect(events.n).toBe(3);
    const [line] = await db.sql`select quantity from pos.cart_items where cart_id = ${cart.id}`;
    expect(line.quantity).toBe(3);
    expect(await page.getByRole("button", { name: /^Update/ }).count()).toBe(0);
    await context.close();
  }, 120_000);

  it("waits for a checkout in progress on this till, then updates over the receipt", async () => {
    const context = await newDevice(browser, "ipad");
    const page = await till.signIn(context, server.apiUrl, STAFF_A1);
    await till.openCustomerCart(page, CUSTOMER_A[1]);
    await till.controlledByWorker(page);
    await till.addButton(page, await till.productName(db, PRODUCT_A[1])).click();
    await page.getByTestId("pending-count").waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Checkout" }).click();
    await page.getByText("Checkout in progress on this till").waitFor();

    await deployNextVersion(dist, "during-checkout");
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    const update = page.getByRole("button", { name: "Update ready" });
    await update.waitFor({ timeout: 20_000 });
    await page.evaluate(() => ((window as unknown as { sameRun: boolean }).sameRun = true));
    await update.click();
    // No pending taps, but a reload now could land between the card and the server: it waits.
    await page.getByRole("button", { name: "Update waits for the checkout" }).waitFor();
    await page.waitForTimeout(1_000);
    expect(await page.evaluate(() => (window as unknown as { sameRun?: boolean }).sameRun)).toBe(true);

    await page.getByRole("button", { name: /^Take card payment/ }).click();
    await page.waitForFunction(
      () => document.querySelector('meta[name="onecart-build"][content="during-checkout"]') !== null,
      undefined,
      { timeout: 30_000 },
    );
    await page.getByRole("heading", { name: /^Paid:/ }).waitFor();
    const [cart] = await db.sql`select status from pos.carts where customer_id = ${CUSTOMER_A[1]}
      order by created_at desc limit 1`;
    expect(cart.status).toBe("checked_out");
    await context.close();
  }, 120_000);
});
