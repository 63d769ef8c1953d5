// npm run app:icons: renders app/public/icon.svg into the PNG icons the web app
// manifest, iOS (apple-touch-icon) and the browser tab (favicon.ico) use, in the
// same Chromium the browser tests drive. Run it after changing the SVG and
// commit the PNGs: they are small, and a build then needs no browser.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { chromiumPath } from "../tests/helpers/browser.ts";
import { appDir } from "./lib/app.ts";

const publicDir = join(appDir, "public");
const svg = await readFile(join(publicDir, "icon.svg"), "utf8");

/** name, size, and how much of the square the mark fills (a plain icon may trim the margin). */
const ICONS: Array<[string, number]> = [
  ["icon-192.png", 192],
  ["icon-512.png", 512],
  ["icon-maskable-512.png", 512],
  ["apple-touch-icon.png", 180],
  ["favicon-32.png", 32],
];

const browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  const rendered = new Map<string, Buffer>();
  for (const [name, size] of ICONS) {
    await page.setViewportSize({ width: size, height: size });
    // A rounded plate for the plain icons (browsers show them as they are);
    // the maskable and iOS icons stay full-bleed (the platform crops them).
    const radius = name.startsWith("icon-") && !name.includes("maskable") ? "18%" : "0";
    await page.setContent(
      `<style>html,body{margin:0;background:transparent}div{width:${size}px;height:${size}px;border-radius:${radius};overflow:hidden}svg{display:block;width:100%;height:100%}</style><div>${svg}</div>`,
    );
    const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    rendered.set(name, png);
    if (name !== "favicon-32.png") await writeFile(join(publicDir, name), png);
  }
  await writeFile(join(publicDir, "favicon.ico"), icoOf(rendered.get("favicon-32.png")!, 32));
} finally {
  await browser.close();
}

/** An .ico holding one PNG image (every current browser reads PNG inside ICO). */
function icoOf(png: Buffer, size: number): Buffer {
  const header = Buffer.alloc(6 + 16);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(1, 4); // one image
  header.writeUInt8(size, 6);
  header.writeUInt8(size, 7);
  header.writeUInt8(0, 8); // no palette
  header.writeUInt8(0, 9);
  header.writeUInt16LE(1, 10); // colour planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(png.length, 14);
  header.writeUInt32LE(header.length, 18);
  return Buffer.concat([header, png]);
}
