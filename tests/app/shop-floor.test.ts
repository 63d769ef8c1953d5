// The shop floor across devices, in real Chromium: the open cart survives a
// reload, a cart started on one device is listed at the location and picked up
// on another, and the words staff read.
import { beforeAll, describe, expect, it } from "vitest";
import { ensureAppBuilt } from "../../scripts/lib/app.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { chromiumPath, launchBrowser, newDevice } from "../helpers/browser.ts";
import { CUSTOMER_A, PRODUCT_A, STAFF_A1, STAFF_A2 } from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import * as till from "../helpers/till.ts";

let db: TestDatabase;
let server: TestServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

describe.skipIf(!chromiumPath)("the shop floor, in Chromium", () => {
  beforeAll(async () => {
    await ensureAppBuilt();
    db = await freshDatabase();
    server = await startTestServer(db);
    browser = await launchBrowser();
  });

  it("the open cart survives a reload, and a walk-in cart begun on the iPad is picked up on the Mac", async () => {
    const ipad = await till.signIn(await newDevice(browser, "ipad"), server.apiUrl, STAFF_A1);
    const mac = await till.signIn(await newDevice(browser, "mac"), server.apiUrl, STAFF_A2);
    await ipad.getByRole("button", { name: "New walk-in sale" }).click();
    await ipad.getByRole("heading", { name: "Cart: Walk-in" }).waitFor();
    const name = await till.productName(db, PRODUCT_A[1]);
    await till.addButton(ipad, name).click();
    await till.addButton(ipad, name).click();
    await ipad.getByTestId("pending-count").waitFor({ state: "detached" });

    await ipad.reload();
    await ipad.getByRole("heading", { name: "Cart: Walk-in" }).waitFor();
    expect(await till.qty(ipad, PRODUCT_A[1]).textContent()).toBe("2");
    expect(await ipad.getByTestId("cart-status").textContent()).toBe("Open");
    // Staff never see the cart's version.
    expect(await ipad.getByText(/^v\d+$/).count()).toBe(0);

    // The Mac lists the walk-in cart of the iPad and picks it up.
    const listed = mac.getByRole("listitem", { name: "Cart of Walk-in" });
    await listed.waitFor({ timeout: 15_000 });
    expect(await listed.textContent()).toContain("Open · 2 items");
    await mac.getByRole("button", { name: "Pick up the cart of Walk-in" }).click();
    await mac.getByRole("heading", { name: "Cart: Walk-in" }).waitFor();
    await till.addButton(mac, name).click();
    await expect.poll(() => till.qty(ipad, PRODUCT_A[1]).textContent(), { timeout: 10_000 }).toBe("3");
    // On the iPad the list says which cart is on its screen, and its own walk-in reads as this till's.
    await ipad.getByRole("listitem", { name: "Cart of Walk-in (this till)" }).getByText("On screen").waitFor();

    // Queue words: "called just now", never "just now ago"; "Call next" is off when no one waits.
    await mac.getByLabel("Customer to add").selectOption(CUSTOMER_A[0]);
    await mac.getByRole("button", { name: "Add to queue" }).click();
    const callNext = mac.getByRole("button", { name: "Call next" });
    await expect.poll(() => callNext.isEnabled(), { timeout: 10_000 }).toBe(true);
    await callNext.click();
    await mac.getByText("Being served · called just now").waitFor();
    expect(await mac.getByText(/ago ago|just now ago/).count()).toBe(0);
    await expect.poll(() => callNext.isDisabled()).toBe(true);
    // Beside a customer being served, the header says no one waits, not that there is no one to call.
    await mac.getByText("No one waiting", { exact: true }).waitFor({ timeout: 5_000 });
    expect(await mac.getByText("No one to call").count()).toBe(0);
    const [button, row] = await Promise.all([
      callNext.boundingBox(),
      mac.getByRole("heading", { name: "Queue" }).locator("..").boundingBox(),
    ]);
    expect(button!.height).toBeLessThanOrEqual(row!.height);
    const add = await mac.getByRole("button", { name: "Add to queue" }).boundingBox();
    expect(add!.height).toBeLessThan(50); // one line, not wrapped

    // A double-tap on "Call next" calls one customer, not two.
    for (const customer of [CUSTOMER_A[1], CUSTOMER_A[2]]) {
      await mac.getByLabel("Customer to add").selectOption(customer);
      await mac.getByRole("button", { name: "Add to queue" }).click();
    }
    await expect.poll(() => mac.getByText(/^Waiting · #/).count(), { timeout: 10_000 }).toBe(2);
    await callNext.dblclick();
    await expect.poll(() => mac.getByText(/^Waiting · #/).count(), { timeout: 10_000 }).toBeLessThan(2);
    await mac.locator(".queue .badge.pending").waitFor({ state: "detached" }); // every call made is answered
    const serving = await db.sql`select count(*)::int as n from pos.queue_entries
      where status = 'serving' and customer_id = any(${[CUSTOMER_A[1], CUSTOMER_A[2]]})`;
    expect(serving[0].n).toBe(1);
    await till.expectNoSeriousViolations(mac, "the open carts and the queue");
    till.expectNoConsoleErrors(ipad, "the iPad on the shop floor");
    till.expectNoConsoleErrors(mac, "the Mac on the shop floor");
    await ipad.context().close();
    await mac.context().close();
  }, 120_000);
});
