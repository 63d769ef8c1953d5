// The till in WebKit, the engine of Safari on an iPad: sign-in, a sale, the
// offline reload and two windows, over WebDriver (WebKitGTK's MiniBrowser).
// WebDriver has no switch for the network, so the till reaches the stack
// through a TCP proxy that refuses every connection while "offline", as a shop
// whose router lost its uplink does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { By, until, type WebDriver } from "selenium-webdriver";
import { ensureAppBuilt } from "../../scripts/lib/app.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { CUSTOMER_A, LOCAL_PASSWORD, PRODUCT_A, STAFF_A1, STAFF_A2, STAFF_EMAILS } from "../helpers/fixture.ts";
import { startTestServer } from "../helpers/server.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";
import { startWebKit, type WebKit, webkitAvailable } from "../helpers/webkit.ts";

let db: TestDatabase;
let proxy: TcpProxy;
let webkit: WebKit;
let tillUrl: string;

const WAIT = 20_000;

function setNetwork(on: boolean) {
  proxy.refuse = on ? 0 : Number.POSITIVE_INFINITY;
  if (!on) proxy.dropAll();
}

const find = (driver: WebDriver, css: string) => driver.wait(until.elementLocated(By.css(css)), WAIT);
/** Clicks the element once it is there and enabled; found again if React replaced it meanwhile. */
async function click(driver: WebDriver, css: string) {
  await driver.wait(
    async () => {
      try {
        const element = await driver.findElement(By.css(css));
        if (!(await element.isEnabled())) return false;
        await element.click();
        return true;
      } catch {
        return false;
      }
    },
    WAIT,
    `click ${css}`,
  );
}
async function waitForText(driver: WebDriver, text: string | RegExp) {
  await driver.wait(
    async () => {
      const body = await driver.findElement(By.css("body")).getText().catch(() => "");
      return typeof text === "string" ? body.includes(text) : text.test(body);
    },
    WAIT,
    `text ${text}`,
  );
}
const textOf = async (driver: WebDriver, css: string) =>
  (await driver.findElements(By.css(css))).length ? await driver.findElement(By.css(css)).getText() : null;
async function choose(driver: WebDriver, selectLabel: string, value: string) {
  await click(driver, `select[aria-label="${selectLabel}"] option[value="${value}"]`);
}

async function signIn(driver: WebDriver, userId: string) {
  await driver.get(tillUrl);
  const email = await find(driver, 'input[type="email"]');
  await email.sendKeys(STAFF_EMAILS[userId]);
  await (await find(driver, 'input[type="password"]')).sendKeys(LOCAL_PASSWORD);
  await click(driver, 'button[type="submit"]');
  await waitForText(driver, "Queue");
  await find(driver, "#queue-title");
}

async function openCustomerCart(driver: WebDriver, customerId: string) {
  await choose(driver, "Open the cart of", customerId);
  await find(driver, "section.cart");
}

async function productName(n: number) {
  return (await db.sql`select name from pos.products where id = ${PRODUCT_A[n]}`)[0].name as string;
}
const addCss = (name: string) => `button[aria-label^="Add ${name},"]`;

async function controlledByWorker(driver: WebDriver) {
  await driver.wait(
    async () => await driver.executeScript("return !!navigator.serviceWorker && !!navigator.serviceWorker.controller"),
    WAIT,
    "the service worker controls the page",
  );
}

async function adds(customerId: string, productId: string) {
  const [row] = await db.sql`select count(*)::int as n from pos.cart_events e join pos.carts c on c.id = e.cart_id
    where c.customer_id = ${customerId} and e.kind = 'item_added' and e.data->>'product_id' = ${productId}`;
  return row.n as number;
}

describe.skipIf(!webkitAvailable)("the till in WebKit", () => {
  beforeAll(async () => {
    await ensureAppBuilt();
    db = await freshDatabase();
    const server = await startTestServer(db);
    proxy = await startTcpProxy(server.apiUrl);
    tillUrl = new URL("/pos/", proxy.url).toString();
    webkit = await startWebKit();
  });
  afterAll(() => webkit?.stop());

  it("signs in, sells and takes the payment", async () => {
    const ipad = await webkit.newDevice();
    await signIn(ipad, STAFF_A1);
    await openCustomerCart(ipad, CUSTOMER_A[0]);
    const name = await productName(0);
    for (let i = 0; i < 3; i++) await click(ipad, addCss(name));
    await ipad.wait(async () => (await textOf(ipad, `[data-testid="qty-${PRODUCT_A[0]}"]`)) === "3", WAIT);
    await ipad.wait(async () => (await ipad.findElements(By.css('[data-testid="pending-count"]'))).length === 0, WAIT);
    await click(ipad, "section.cart button.primary");
    await waitForText(ipad, "Checkout in progress on this till");
    await click(ipad, "section.cart button.primary");
    await waitForText(ipad, /Paid \$.* by card/);
    await find(ipad, "section.receipt");
    const [cart] = await db.sql`select status from pos.carts where customer_id = ${CUSTOMER_A[0]}
      order by created_at desc limit 1`;
    expect(cart.status).toBe("checked_out");
    expect(await adds(CUSTOMER_A[0], PRODUCT_A[0])).toBe(3);
  }, 120_000);

  it("reloads offline into the till with its pending taps, and each lands once when the network returns", async () => {
    const ipad = await webkit.newDevice();
    await signIn(ipad, STAFF_A1);
    await openCustomerCart(ipad, CUSTOMER_A[1]);
    await controlledByWorker(ipad);
    const name = await productName(1);
    setNetwork(false);
    try {
      await click(ipad, addCss(name));
      await click(ipad, addCss(name));
      await ipad.wait(async () => (await textOf(ipad, '[data-testid="pending-count"]')) === "2 taps to send", WAIT);
      await ipad.navigate().refresh();
      await find(ipad, "section.cart");
      await ipad.wait(async () => (await textOf(ipad, '[data-testid="pending-count"]')) === "2 taps to send", WAIT);
      await waitForText(ipad, STAFF_EMAILS[STAFF_A1]);
      await click(ipad, addCss(name));
      await ipad.wait(async () => (await textOf(ipad, '[data-testid="pending-count"]')) === "3 taps to send", WAIT);
      expect(await textOf(ipad, '[data-testid="network"]')).toMatch(/^Offline/);
      expect(await adds(CUSTOMER_A[1], PRODUCT_A[1])).toBe(0);
    } finally {
      setNetwork(true);
    }
    await ipad.wait(
      async () => (await ipad.findElements(By.css('[data-testid="pending-count"]'))).length === 0,
      40_000,
    );
    await ipad.wait(async () => (await adds(CUSTOMER_A[1], PRODUCT_A[1])) === 3, WAIT);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await adds(CUSTOMER_A[1], PRODUCT_A[1])).toBe(3);
  }, 180_000);

  it("two windows offline, both closed before the network returns: every tap applied once", async () => {
    const mac = await webkit.newDevice({ width: 1440, height: 900 });
    await signIn(mac, STAFF_A2);
    await openCustomerCart(mac, CUSTOMER_A[2]);
    await controlledByWorker(mac);
    const first = await mac.getWindowHandle();
    await mac.switchTo().newWindow("window");
    const second = await mac.getWindowHandle();
    await mac.get(tillUrl);
    await find(mac, "section.cart"); // the second window shows the same cart
    await mac.switchTo().newWindow("window");
    const spare = await mac.getWindowHandle(); // keeps the session open while both tills are closed
    const name = await productName(2);

    setNetwork(false);
    try {
      for (const handle of [first, second, first, second, first]) {
        await mac.switchTo().window(handle);
        await click(mac, addCss(name));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const handle of [first, second]) {
        await mac.switchTo().window(handle);
        await mac.close();
      }
      expect(await adds(CUSTOMER_A[2], PRODUCT_A[2])).toBe(0);
    } finally {
      setNetwork(true);
    }
    await mac.switchTo().window(spare);
    await mac.get(tillUrl);
    await find(mac, "section.cart");
    await mac.wait(async () => (await adds(CUSTOMER_A[2], PRODUCT_A[2])) === 5, 40_000);
    await mac.wait(async () => (await mac.findElements(By.css('[data-testid="pending-count"]'))).length === 0, WAIT);
    expect(await adds(CUSTOMER_A[2], PRODUCT_A[2])).toBe(5);
  }, 180_000);
});
