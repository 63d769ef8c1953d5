// Two windows of a web till in real Chromium, on one IndexedDB and one set
// of Web Locks: both offline, taps in both, both closed without a word; a
// window opened later sends every tap of both, each once.
import { build } from "vite";
import { beforeAll, expect, it } from "vitest";
import { assertInvariants, freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { chromiumPath, launchBrowser } from "../helpers/browser.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { LOCATION_A1, PRODUCT_A, STAFF_A1 } from "../helpers/fixture.ts";
import { startDevice, until } from "./device.ts";

let db: TestDatabase;
let server: TestServer;
let script: string;

beforeAll(async () => {
  db = await freshDatabase();
  server = await startTestServer(db);
  // Bundled by Vite, as a web till is.
  const output = await build({
    configFile: false,
    logLevel: "silent",
    // Library mode leaves process.env in; a page has none.
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    build: {
      write: false,
      minify: false,
      lib: { entry: new URL("./browser-till.ts", import.meta.url).pathname, formats: ["es"], fileName: "till" },
    },
  });
  const [result] = Array.isArray(output) ? output : [output];
  script = (result as { output: Array<{ type: string; code?: string }> }).output.find((o) => o.type === "chunk")!.code!;
});

it.skipIf(!chromiumPath)("two windows offline, both closed: a third sends every tap of both exactly once", async () => {
  const token = await server.token(STAFF_A1);
  const { onecart } = startDevice(server, token);
  const cart = await onecart.openCart({ locationId: LOCATION_A1, deviceId: "web-till" });

  const browser = await launchBrowser();
  const context = await browser.newContext();
  // The till's page, served from the API's own origin (as the POS app is), so it reaches onecart as a page would.
  const origin = `${server.apiUrl}/till-test`;
  await context.route(`${origin}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    return path.endsWith(".js") ? route.fulfill({ contentType: "text/javascript", body: script }) : route.fulfill({
      contentType: "text/html",
      body: `<!doctype html><script type="module" src="till.js"></script>`,
    });
  });
  const open = async () => {
    const page = await context.newPage();
    page.on("pageerror", (error) => console.error(`[browser] ${error.message}`));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => "till" in window);
    await page.evaluate(
      (options) => window.till.start(options),
      { url: server.apiUrl, anonKey: server.anonKey, token, cartId: cart.id },
    );
    return page;
  };

  const first = await open();
  const second = await open();
  await context.setOffline(true);
  const expected: string[] = [];
  for (let i = 0; i < 4; i++) {
    await first.evaluate(([tap, product]) => window.till.tap(tap, product), [`w1-${i}`, PRODUCT_A[i]]);
    await second.evaluate(([tap, product]) => window.till.tap(tap, product), [`w2-${i}`, PRODUCT_A[i + 1]]);
    expected.push(`w1-${i}`, `w2-${i}`);
  }
  for (const page of [first, second]) {
    await page.waitForFunction(() => !window.till.online());
    await page.evaluate(() => window.till.flush());
  }
  // Both windows closed as a person closes them: no destroy, no goodbye.
  await first.close();
  await second.close();

  await context.setOffline(false);
  const third = await open();
  const taps = async () =>
    (await db.sql<{ tap: string }[]>`select data -> 'options' ->> 'tap' as tap from pos.cart_events
      where cart_id = ${cart.id} and kind = 'item_added'`).map((r) => r.tap).sort();
  await until(async () => (await taps()).length >= expected.length, "the third window has sent both windows' taps");
  await third.waitForFunction(() => window.till.pending() === 0);
  expect(await taps()).toEqual(expected.sort());
  await assertInvariants(db.sql);
});
