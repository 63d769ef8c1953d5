// Real WebKit (Safari's engine, as on an iPad) for the till's browser tests:
// Debian's WebKitGTK WebDriver (webkit2gtk-driver) drives MiniBrowser under a
// virtual X display (xvfb-run), through selenium-webdriver. Without them the
// WebKit tests are skipped with a message that says so, never passed.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { Builder, type WebDriver } from "selenium-webdriver";

function onPath(name: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

function findMiniBrowser(): string | null {
  if (process.env.MINIBROWSER_PATH) {
    return existsSync(process.env.MINIBROWSER_PATH) ? process.env.MINIBROWSER_PATH : null;
  }
  for (const lib of ["/usr/lib", "/usr/lib64", "/usr/libexec"]) {
    if (!existsSync(lib)) continue;
    const dirs = [lib, ...readdirSync(lib).map((d) => `${lib}/${d}`)];
    for (const dir of dirs) {
      for (const version of ["webkit2gtk-4.1", "webkit2gtk-4.0", "webkitgtk-6.0"]) {
        const path = `${dir}/${version}/MiniBrowser`;
        if (existsSync(path)) return path;
      }
    }
  }
  return null;
}

const driverPath = onPath("WebKitWebDriver");
const xvfbRun = onPath("xvfb-run");
const miniBrowser = findMiniBrowser();
export const webkitAvailable = !!(driverPath && xvfbRun && miniBrowser);
if (!webkitAvailable) {
  console.warn(
    "\n*** No WebKitGTK WebDriver found: the till's WebKit tests are SKIPPED. Install it " +
      "(Debian/Ubuntu: apt-get install webkit2gtk-driver xvfb). ***\n",
  );
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface WebKit {
  /** A new MiniBrowser: its own profile, as another device. The driver runs one at a time: the last one quits. */
  newDevice(size?: { width: number; height: number }): Promise<WebDriver>;
  /** Quits the browser and stops the driver and its display; call it in the test file's afterAll. */
  stop(): Promise<void>;
}

/** Starts WebKitWebDriver on a virtual display for this test file. */
export async function startWebKit(): Promise<WebKit> {
  const port = await freePort();
  const driver: ChildProcess = spawn(xvfbRun!, ["-a", "-s", "-screen 0 1440x900x24", driverPath!, `--port=${port}`], {
    detached: true, // its own process group: xvfb-run, Xvfb and the driver stop together
    stdio: "ignore",
  });
  const sessions: WebDriver[] = [];
  const stop = () => {
    try {
      process.kill(-driver.pid!, "SIGTERM");
    } catch {
      // already gone
    }
  };
  // Also when the test worker exits without running its hooks: a detached group outlives it otherwise.
  process.once("exit", stop);
  const server = `http://127.0.0.1:${port}`;
  for (let i = 0;; i++) {
    try {
      const response = await fetch(`${server}/status`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 100) throw new Error("WebKitWebDriver did not start");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    async stop() {
      const quitting = Promise.all(sessions.splice(0).map((s) => s.quit().catch(() => {})));
      await Promise.race([quitting, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      stop();
    },
    async newDevice(size = { width: 1180, height: 820 }) {
      await Promise.all(sessions.splice(0).map((s) => s.quit().catch(() => {})));
      const session = await new Builder()
        .usingServer(server)
        .withCapabilities({
          browserName: "MiniBrowser",
          "webkitgtk:browserOptions": { binary: miniBrowser, args: ["--automation"] },
        })
        .build();
      sessions.push(session);
      // Bounded, so a hung load fails the test with a reason rather than at the test's own timeout.
      await session.manage().setTimeouts({ pageLoad: 30_000, script: 30_000 });
      await session.manage().window().setRect(size);
      return session;
    },
  };
}
