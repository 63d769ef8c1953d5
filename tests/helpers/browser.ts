// Real Chromium for the POS app's end-to-end tests: playwright-core drives the
// system's Chromium (CHROMIUM_PATH, or chromium on PATH). Without one the
// browser tests are skipped with a message that says so, never passed.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll } from "vitest";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

function findChromium(): string | null {
  const named = process.env.CHROMIUM_PATH;
  if (named) return existsSync(named) ? named : null;
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    try {
      const path = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (path) return path;
    } catch {
      // not this one
    }
  }
  return null;
}

export const chromiumPath = findChromium();
if (!chromiumPath) {
  console.warn(
    "\n*** No Chromium found: the POS app's browser tests are SKIPPED. Install Chromium " +
      "(Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH. ***\n",
  );
}

/** The two devices of a shop, as the app is laid out for them. */
export const DEVICES = {
  ipad: { viewport: { width: 1024, height: 768 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 },
  ipadAir: { viewport: { width: 1180, height: 820 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 },
  ipadPortrait: { viewport: { width: 810, height: 1080 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 },
  mac: { viewport: { width: 1440, height: 900 }, hasTouch: false, isMobile: false, deviceScaleFactor: 1 },
} as const;

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath!,
    // Containers and CI often run as root, where Chromium's sandbox cannot start.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  afterAll(() => browser.close());
  return browser;
}

export async function newDevice(browser: Browser, device: keyof typeof DEVICES): Promise<BrowserContext> {
  return await browser.newContext({ ...DEVICES[device], locale: "en-US", timezoneId: "America/New_York" });
}
