// The till as the browser tests drive it: sign in, open a cart, read a
// quantity, and the two checks every screen gets (no console error, no
// serious accessibility violation).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";
import { LOCAL_PASSWORD, STAFF_EMAILS } from "./fixture.ts";
import type { TestDatabase } from "./db.ts";

const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Every console error and uncaught exception of the page, to assert none at the end. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
  return errors;
}

export const consoleErrors = new WeakMap<Page, string[]>();

export async function openTill(context: BrowserContext, apiUrl: string): Promise<Page> {
  const page = await context.newPage();
  consoleErrors.set(page, watchConsole(page));
  await page.goto(`${apiUrl}/pos/`);
  return page;
}

export async function signIn(context: BrowserContext, apiUrl: string, userId: string): Promise<Page> {
  const page = await openTill(context, apiUrl);
  await page.getByLabel("E-mail").fill(STAFF_EMAILS[userId]);
  await page.getByLabel("Password").fill(LOCAL_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Queue" }).waitFor();
  return page;
}

export async function openCustomerCart(page: Page, customerId: string): Promise<void> {
  await page.getByLabel("Open the cart of").selectOption(customerId);
  await page.getByRole("heading", { name: /^Cart:/ }).waitFor();
}

export const qty = (page: Page, productId: string) => page.getByTestId(`qty-${productId}`);

export const addButton = (page: Page, productName: string) =>
  page.getByRole("button", { name: new RegExp(`^Add ${productName},`) });

export async function productName(db: TestDatabase, productId: string): Promise<string> {
  return (await db.sql`select name from pos.products where id = ${productId}`)[0].name as string;
}

/**
 * How many pending actions the till's storage holds. A tap shows as "to send"
 * the moment it is made and lands in IndexedDB a few milliseconds later: a test
 * that reloads or closes the page waits for this, as a device's own crash
 * could not.
 */
export async function storedTaps(page: Page): Promise<number> {
  return await page.evaluate(() =>
    new Promise<number>((resolve, reject) => {
      const open = indexedDB.open("onecart-pos");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const request = open.result.transaction("kv").objectStore("kv").getAllKeys();
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          resolve(request.result.filter((key) => String(key).includes("/action/")).length);
          open.result.close();
        };
      };
    })
  );
}

/** The service worker has taken over the page, so a reload can come from its cache. */
export async function controlledByWorker(page: Page): Promise<void> {
  await page.waitForFunction(
    async () => {
      await navigator.serviceWorker.ready;
      return !!navigator.serviceWorker.controller;
    },
    undefined,
    { timeout: 20_000 },
  );
}

export async function expectNoSeriousViolations(page: Page, where: string): Promise<void> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v: any) => v.impact === "serious" || v.impact === "critical")
      .map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(" ")).join(", ")}`);
  });
  expect(violations, `accessibility on ${where}`).toEqual([]);
}

export function expectNoConsoleErrors(page: Page, where: string, allowed: RegExp[] = []): void {
  const errors = (consoleErrors.get(page) ?? []).filter((e) => !allowed.some((a) => a.test(e)));
  expect(errors, `console errors on ${where}`).toEqual([]);
}
