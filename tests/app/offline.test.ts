// The till without network, in real Chromium with its service worker: it is
// installable, it reloads and cold-starts offline into the signed-in till with
// the open cart and its pending taps, takes new taps, and each tap lands on the
// server once when the network returns. Network cuts are Playwright's
// setOffline, which in Chromium also covers the service worker's own fetches.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAppBuilt } from "../../scripts/lib/app.ts";
import { repoRoot } from "../../scripts/lib/database.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { chromiumPath, DEVICES, launchBrowser, newDevice } from "../helpers/browser.ts";
import { CUSTOMER_A, PRODUCT_A, STAFF_A1, STAFF_EMAILS } from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import * as till from "../helpers/till.ts";

/**
 * What Chromium itself logs while the network is cut: the requests it refused.
 * Nothing the server answers may show (the library's reachability probe reads
 * a cart the device holds, which answers 200).
 */
const CUT_NETWORK = [/ERR_INTERNET_DISCONNECTED/, /net::ERR_/];

const SHOTS = join(repoRoot, process.env.ONECART_RECORD_SCREENSHOTS === "1" ? "docs/screenshots" : "tmp/screenshots");

let db: TestDatabase;
let server: TestServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
const profiles: string[] = [];

describe.skipIf(!chromiumPath)("the till offline, in Chromium", () => {
  beforeAll(async () => {
    await ensureAppBuilt();
    db = await freshDatabase();
    server = await startTestServer(db);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const dir of profiles) await rm(dir, { recursive: true, force: true });
  });

  /** A browser with a profile on disk: closed and launched again, it is a cold start of the same device. */
  const launchProfile = (profile: string, offline: boolean) =>
    chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath!,
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
      ...DEVICES.mac,
      locale: "en-US",
      timezoneId: "America/New_York",
      offline,
    });

  async function openCartOf(customerId: string) {
    const [cart] = await db.sql`select id from pos.carts where customer_id = ${customerId}
      and status in ('active', 'locked')`;
    return cart.id as string;
  }
  async function adds(cartId: string, productId: string): Promise<{ events: number; quantity: number }> {
    const [events] = await db.sql`select count(*)::int as n from pos.cart_events
      where cart_id = ${cartId} and kind = 'item_added' and data->>'product_id' = ${productId}`;
    const [line] = await db.sql`select coalesce(sum(quantity), 0)::int as q from pos.cart_items
      where cart_id = ${cartId} and product_id = ${productId}`;
    return { events: events.n, quantity: line.q };
  }

  /** The till as it must look after an offline start: who, where, the queue, the cart and its pending taps. */
  async function expectTillOffline(page: Page, storeName: string, pending: string) {
    await page.getByRole("heading", { name: "Queue" }).waitFor();
    await page.getByText(STAFF_EMAILS[STAFF_A1]).waitFor();
    await page.getByRole("heading", { name: storeName }).waitFor();
    await page.getByRole("heading", { name: /^Cart:/ }).waitFor();
    expect(await page.getByTestId("network").textContent()).toMatch(/^Offline/);
    await expect.poll(() => page.getByTestId("pending-count").textContent()).toBe(pending);
  }

  it("is installable: manifest, icons, favicon and a worker Chromium accepts", async () => {
    // Chromium installs nothing from an incognito profile: a real one, as a Mac's browser has.
    const profile = await mkdtemp(join(tmpdir(), "onecart-till-"));
    profiles.push(profile);
    const context = await launchProfile(profile, false);
    const page = await till.signIn(context, server.apiUrl, STAFF_A1);
    await till.controlledByWorker(page);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    expect(installabilityErrors).toEqual([]);
    const manifest = await cdp.send("Page.getAppManifest");
    expect(manifest.url).toBe(`${server.apiUrl}/pos/manifest.webmanifest`);
    const parsed = JSON.parse(manifest.data!);
    expect(parsed).toMatchObject({ display: "standalone", short_name: "Till", start_url: "./", scope: "./" });
    expect(parsed.icons.map((i: { sizes: string; purpose: string }) => `${i.sizes} ${i.purpose}`)).toEqual(
      expect.arrayContaining(["192x192 any", "512x512 any", "512x512 maskable"]),
    );

    const headers = async (path: string) => {
      const response = await fetch(`${server.apiUrl}/pos/${path}`);
      await response.arrayBuffer();
      return {
        status: response.status,
        type: response.headers.get("content-type"),
        cache: response.headers.get("cache-control"),
      };
    };
    expect(await headers("sw.js")).toEqual({ status: 200, type: "text/javascript; charset=utf-8", cache: "no-cache" });
    expect(await headers("manifest.webmanifest")).toMatchObject({ status: 200, type: "application/manifest+json" });
    expect(await headers("favicon.ico")).toMatchObject({ status: 200, type: "image/x-icon" });
    expect(await headers("apple-touch-icon.png")).toMatchObject({ status: 200, type: "image/png" });
    expect(await page.locator('link[rel="apple-touch-icon"]').count()).toBe(1);
    expect(await page.locator('meta[name="apple-mobile-web-app-capable"]').getAttribute("content")).toBe("yes");
    // config.json goes through the worker, network-first, and its copy is kept for a start without network.
    await page.reload();
    await page.getByRole("heading", { name: "Queue" }).waitFor();
    await expect.poll(() =>
      page.evaluate(async () => {
        const kept = await (await caches.open("onecart-config")).match("config.json");
        return kept ? (await kept.json()).supabase_url : null;
      })
    ).toBe(server.apiUrl);
    till.expectNoConsoleErrors(page, "the till with its worker");
    await context.close();
  }, 120_000);

  it(
    "reloads offline into the till with the open cart and its pending taps, takes more, and each lands once",
    async () => {
      const context = await newDevice(browser, "ipad");
      const page = await till.signIn(context, server.apiUrl, STAFF_A1);
      const storeName = (await page.getByRole("heading", { level: 1 }).textContent())!;
      await till.openCustomerCart(page, CUSTOMER_A[0]);
      const name = await till.productName(db, PRODUCT_A[0]);
      await till.addButton(page, name).click();
      await expect.poll(() => till.qty(page, PRODUCT_A[0]).textContent()).toBe("1");
      await page.getByTestId("pending-count").waitFor({ state: "detached" });
      await till.controlledByWorker(page);
      const cartId = await openCartOf(CUSTOMER_A[0]);

      // A browser tab is refused lasting storage; that matters only once taps wait here, and only then is it said.
      const tip = page.getByRole("note").filter({ hasText: /install the till/ });
      expect(await tip.count()).toBe(0);

      await context.setOffline(true);
      await page.getByTestId("network").filter({ hasText: /^Offline/ }).waitFor();
      await till.addButton(page, name).click();
      await till.addButton(page, name).click();
      await expect.poll(() => page.getByTestId("pending-count").textContent()).toBe("2 taps to send");
      await tip.waitFor();
      await expect.poll(() => till.storedTaps(page)).toBe(2);
      await page.reload();
      await expectTillOffline(page, storeName, "2 taps to send");
      expect(await till.qty(page, PRODUCT_A[0]).textContent()).toBe("3");
      await till.addButton(page, name).click();
      await expect.poll(() => page.getByTestId("pending-count").textContent()).toBe("3 taps to send");
      expect(await adds(cartId, PRODUCT_A[0])).toEqual({ events: 1, quantity: 1 });
      await mkdir(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, "pos-offline-ipad.png") });
      await till.expectNoSeriousViolations(page, "the till offline");

      await context.setOffline(false);
      await page.getByTestId("pending-count").waitFor({ state: "detached", timeout: 30_000 });
      await expect.poll(() => adds(cartId, PRODUCT_A[0]), { timeout: 20_000 }).toEqual({ events: 4, quantity: 4 });
      await expect.poll(() => page.getByTestId("network").textContent(), { timeout: 20_000 }).toBe("Online");
      till.expectNoConsoleErrors(page, "an offline reload", CUT_NETWORK);
      await context.close();
    },
    120_000,
  );

  it(
    "cold-starts with no network (browser closed and started again) and sends the taps once when it returns",
    async () => {
      const profile = await mkdtemp(join(tmpdir(), "onecart-till-"));
      profiles.push(profile);
      const launch = (offline: boolean) => launchProfile(profile, offline);
      let context = await launch(false);
      let page = await till.signIn(context, server.apiUrl, STAFF_A1);
      const storeName = (await page.getByRole("heading", { level: 1 }).textContent())!;
      await till.openCustomerCart(page, CUSTOMER_A[1]);
      await till.controlledByWorker(page);
      const cartId = await openCartOf(CUSTOMER_A[1]);
      const name = await till.productName(db, PRODUCT_A[1]);
      await context.setOffline(true);
      // The till has seen the network go, so the tap is kept rather than caught on its way out.
      await page.getByTestId("network").filter({ hasText: /^Offline/ }).waitFor();
      await till.addButton(page, name).click();
      await expect.poll(() => page.getByTestId("pending-count").textContent()).toBe("1 tap to send");
      await expect.poll(() => till.storedTaps(page)).toBe(1);
      await context.close();

      context = await launch(true);
      page = await till.openTill(context, server.apiUrl);
      await expectTillOffline(page, storeName, "1 tap to send");
      await till.addButton(page, name).click();
      await till.addButton(page, name).click();
      await expect.poll(() => page.getByTestId("pending-count").textContent()).toBe("3 taps to send");
      expect(await adds(cartId, PRODUCT_A[1])).toEqual({ events: 0, quantity: 0 });

      await context.setOffline(false);
      await page.getByTestId("pending-count").waitFor({ state: "detached", timeout: 30_000 });
      await expect.poll(() => adds(cartId, PRODUCT_A[1]), { timeout: 20_000 }).toEqual({ events: 3, quantity: 3 });
      // The store's home data is read again once the network is back: the header says so.
      await expect.poll(() => page.getByTestId("network").textContent(), { timeout: 20_000 }).toBe("Online");
      till.expectNoConsoleErrors(page, "an offline cold start", CUT_NETWORK);
      await context.close();
    },
    180_000,
  );

  it("the header never says Online while the project is out of reach, and does once it answers", async () => {
    const context = await newDevice(browser, "mac");
    const page = await till.signIn(context, server.apiUrl, STAFF_A1);
    await till.controlledByWorker(page);
    // The shop's router is up (the browser thinks it is online), the project is not reachable.
    const cut = (route: { abort: (code: string) => Promise<void> }) => route.abort("connectionrefused");
    await context.route(/\/(functions|rest)\/v1\//, cut);
    // Every word the header shows from the first frame on, not only where the test happens to look.
    await page.addInitScript(() => {
      const seen: string[] = ((window as unknown as { networkWords: string[] }).networkWords = []);
      new MutationObserver(() => {
        const text = document.querySelector('[data-testid="network"]')?.textContent;
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
    await page.reload();
    await page.getByRole("heading", { name: "Queue" }).waitFor();
    await page.waitForTimeout(1_500);
    const words = await page.evaluate(() => (window as unknown as { networkWords: string[] }).networkWords);
    expect(words.length).toBeGreaterThan(0);
    expect(words).not.toContain("Online");
    await context.unroute(/\/(functions|rest)\/v1\//, cut);
    await expect.poll(() => page.getByTestId("network").textContent(), { timeout: 30_000 }).toBe("Online");
    await context.close();
  }, 90_000);

  it("a first start that never reached the project says in one sentence what it needs", async () => {
    const context = await newDevice(browser, "ipad");
    await context.route("**/pos/config.json", (route) => route.abort("internetdisconnected"));
    const page = await context.newPage();
    await page.goto(`${server.apiUrl}/pos/`);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.locator("p").textContent()).toMatch(/^This device has never reached onecart: .*\.$/);
    await till.expectNoSeriousViolations(page, "the first start without network");
    await context.close();
  }, 60_000);

  it(
    "two windows of one profile, both offline and both closed before the network returns, apply every tap once",
    async () => {
      const context = await newDevice(browser, "mac");
      const first = await till.signIn(context, server.apiUrl, STAFF_A1);
      await till.openCustomerCart(first, CUSTOMER_A[2]);
      await till.controlledByWorker(first);
      const second = await till.openTill(context, server.apiUrl);
      // The second window shows the cart the first one has open.
      await second.getByRole("heading", { name: /^Cart:/ }).waitFor();
      const cartId = await openCartOf(CUSTOMER_A[2]);
      const name = await till.productName(db, PRODUCT_A[2]);

      await context.setOffline(true);
      // And the API refused outright: under load a tap could otherwise slip out between the two pages going offline.
      const cut = (route: { abort: (code: string) => Promise<void> }) => route.abort("internetdisconnected");
      await context.route(/\/(functions|rest)\/v1\//, cut);
      await first.getByTestId("network").filter({ hasText: /^Offline/ }).waitFor();
      await second.getByTestId("network").filter({ hasText: /^Offline/ }).waitFor();
      for (const page of [first, second, first, second, first]) await till.addButton(page, name).click();
      // Both windows have written their taps down before they close.
      await expect.poll(() => till.storedTaps(first)).toBe(5);
      await first.close();
      await second.close();
      expect(await adds(cartId, PRODUCT_A[2])).toEqual({ events: 0, quantity: 0 });

      await context.unroute(/\/(functions|rest)\/v1\//, cut);
      await context.setOffline(false);
      const after = await till.openTill(context, server.apiUrl);
      await after.getByRole("heading", { name: /^Cart:/ }).waitFor();
      await expect.poll(() => adds(cartId, PRODUCT_A[2]), { timeout: 30_000 }).toEqual({ events: 5, quantity: 5 });
      await after.getByTestId("pending-count").waitFor({ state: "detached", timeout: 30_000 });
      await context.close();
    },
    120_000,
  );
});
