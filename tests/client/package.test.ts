// @onecart/client as a POS team gets it: `npm pack` in client/ (its prepack
// builds it), the tarball installed into a fresh project outside this
// repository with supabase-js, TypeScript, Vite and React from the registry,
// and there: plain Node 24 imports it, `tsc --strict` checks a small app under
// NodeNext and Bundler resolution, Vite bundles both entry points, and a
// script signed in through Supabase Auth taps an item into a cart on the local
// stack.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "vite";
import { appDir } from "../../scripts/lib/app.ts";
import { clientDir, clientDist } from "../../scripts/lib/client.ts";
import { repoRoot } from "../../scripts/lib/database.ts";
import { clientTypesFile, typesFile } from "../../scripts/gen-types.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";
import { LOCAL_PASSWORD, LOCATION_A1, PRODUCT_A, STAFF_A1, STAFF_EMAILS } from "../helpers/fixture.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const exec = promisify(execFile);

// What the consumer project installs besides the tarball: the versions this
// repository is tested with, so a warm npm cache serves them.
const CONSUMER_DEPENDENCIES = ["@supabase/supabase-js", "react", "react-dom"];
const CONSUMER_DEV_DEPENDENCIES = ["@types/react", "@types/react-dom", "typescript", "vite"];

/**
 * The environment of a person's terminal: no npm lifecycle variables of the
 * run that started vitest, no loaders in NODE_OPTIONS, no test mode; Node 24 first.
 */
function terminalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    const kept = name === "npm_config_cache" || name === "npm_config_registry" || name === "npm_config_userconfig";
    if (name.startsWith("npm_") && !kept) continue;
    if (name === "NODE_OPTIONS" || name === "NODE_ENV" || name === "INIT_CWD" || name.startsWith("VITEST")) continue;
    env[name] = value;
  }
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH}`;
  env.NO_COLOR = "1";
  return env;
}

async function sh(cwd: string, command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, env: terminalEnv(), maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${e.stdout ?? ""}\n${e.stderr ?? e.message}`);
  }
}

async function installedVersion(name: string): Promise<string> {
  return JSON.parse(await readFile(join(repoRoot, "node_modules", name, "package.json"), "utf8")).version;
}

const temp: string[] = [];
let tarball: string;
let packed: string[];
let consumer: string;
let server: TestServer;
let db: TestDatabase;

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temp.push(dir);
  return dir;
}

beforeAll(async () => {
  await Promise.all([
    (async () => {
      db = await freshDatabase();
      server = await startTestServer(db);
    })(),
    (async () => {
      tarball = await pack();
      consumer = await installInNewProject(tarball);
    })(),
  ]);
}, 240_000);

/** The tarball `npm pack` makes; its file list in `packed`. */
async function pack(): Promise<string> {
  // Packed from a copy of the package's sources without its build, so the
  // tarball holds what prepack built, and the repository's own client/dist
  // (which other test files read meanwhile) is left alone.
  const source = await tempDir("onecart-client-src-");
  await cp(clientDir, source, {
    recursive: true,
    filter: (path) => !/[/\\](dist|node_modules)$/.test(path),
  });
  await symlink(join(repoRoot, "node_modules"), join(source, "node_modules"), "dir");
  const out = await tempDir("onecart-tarball-");
  await sh(source, "npm", ["pack", "--pack-destination", out]);
  const [name] = (await readdir(out)).filter((f) => f.endsWith(".tgz"));
  const file = join(out, name);
  packed = (await sh(out, "tar", ["-tzf", file])).split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""));
  return file;
}

/** A POS app's project in the OS temp dir, with the tarball and what an app needs beside it. */
async function installInNewProject(tarball: string): Promise<string> {
  const consumer = await tempDir("onecart-pos-app-");
  const versions = async (names: string[]) =>
    Object.fromEntries(await Promise.all(names.map(async (n) => [n, await installedVersion(n)])));
  await writeFile(
    join(consumer, "package.json"),
    JSON.stringify(
      {
        name: "pos-app",
        private: true,
        type: "module",
        dependencies: { "@onecart/client": `file:${tarball}`, ...(await versions(CONSUMER_DEPENDENCIES)) },
        devDependencies: await versions(CONSUMER_DEV_DEPENDENCIES),
      },
      null,
      2,
    ),
  );
  await sh(consumer, "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"]);
  await writeConsumerApp(consumer);
  return consumer;
}

afterAll(async () => {
  await Promise.all(temp.map((dir) => rm(dir, { recursive: true, force: true })));
});

it("carries the generated database types as the functions do (npm run types:gen writes both)", async () => {
  expect(await readFile(clientTypesFile, "utf8")).toBe(await readFile(typesFile, "utf8"));
});

describe("the tarball", () => {
  it("holds the build, its declarations and maps, the README and the licence, and no sources", () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "LICENSE",
        "dist/index.js",
        "dist/index.js.map",
        "dist/index.d.ts",
        "dist/index.d.ts.map",
        "dist/react.js",
        "dist/react.d.ts",
        "dist/database.types.d.ts",
      ]),
    );
    expect(packed.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(packed.filter((f) => f.startsWith("src/"))).toEqual([]);
  });

  it("has source maps that carry the sources they map, since the sources are not shipped", async () => {
    const map = JSON.parse(await readFile(join(consumer, "node_modules/@onecart/client/dist/index.js.map"), "utf8"));
    expect(map.sourcesContent).toEqual([expect.stringContaining("createOnecart")]);
  });

  it("exports the build only: every target of `exports` is in the tarball", async () => {
    const manifest = JSON.parse(
      await readFile(join(consumer, "node_modules/@onecart/client/package.json"), "utf8"),
    );
    expect(manifest.version).toBe("1.0.0");
    // For tools that predate `exports`.
    expect([manifest.main, manifest.types]).toEqual(["./dist/index.js", "./dist/index.d.ts"]);
    expect(Object.keys(manifest.exports)).toEqual([".", "./react", "./package.json"]);
    const targets = Object.values(manifest.exports).flatMap((entry) =>
      typeof entry === "string" ? [entry] : Object.values(entry as Record<string, string>)
    );
    for (const target of targets) expect(packed, target).toContain(target.replace(/^\.\//, ""));
    expect(targets.filter((t) => !t.startsWith("./dist/") && t !== "./package.json")).toEqual([]);
  });
});

it("imports from plain Node 24, both entry points, with no loader", async () => {
  const out = await sh(consumer, process.execPath, ["imports.mjs"]);
  expect(JSON.parse(out)).toEqual({
    core: expect.arrayContaining(["createOnecart", "memoryStorage", "indexedDbStorage", "OnecartError"]),
    react: expect.arrayContaining(["OnecartProvider", "useCart", "useQueue", "useOnline"]),
    createOnecart: "function",
  });
});

describe("tsc --strict type-checks a POS app against the declarations", () => {
  for (const resolution of ["NodeNext", "Bundler"]) {
    it(`under moduleResolution ${resolution}`, async () => {
      const out = await sh(consumer, join(consumer, "node_modules/.bin/tsc"), [
        "-p",
        `tsconfig.${resolution.toLowerCase()}.json`,
        "--strict",
      ]).catch((error: Error) => error.message);
      expect(out).toBe("");
    });
  }
});

it("builds with Vite, importing @onecart/client and @onecart/client/react", async () => {
  await sh(consumer, join(consumer, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"]);
  const assets = join(consumer, "dist/assets");
  const bundle = (
    await Promise.all(
      (await readdir(assets)).filter((f) => f.endsWith(".js")).map((f) => readFile(join(assets, f), "utf8")),
    )
  ).join("\n");
  // A string from each entry point: both were bundled from the package.
  expect(bundle).toContain("useOnecart: wrap the app");
  expect(bundle).toContain("network_error");
  expect(existsSync(join(consumer, "dist/index.html"))).toBe(true);
});

it("taps an item into a cart on the local stack, signed in through Supabase Auth", async () => {
  const out = await sh(consumer, process.execPath, [
    "tap.mjs",
    server.apiUrl,
    server.anonKey,
    STAFF_EMAILS[STAFF_A1],
    LOCAL_PASSWORD,
    LOCATION_A1,
    PRODUCT_A[0],
  ]);
  const tap = JSON.parse(out.trim().split("\n").at(-1)!);
  expect(tap.shown).toEqual([{ product_id: PRODUCT_A[0], quantity: 1 }]);
  const lines = await db.sql`select product_id, quantity from pos.cart_items where cart_id = ${tap.cartId}`;
  expect(lines.map((l) => ({ ...l }))).toEqual([{ product_id: PRODUCT_A[0], quantity: 1 }]);
});

it("is what the POS app in app/ bundles too: its Vite config resolves the package to the build", async () => {
  const vite = await createServer({
    configFile: join(appDir, "vite.config.ts"),
    server: { middlewareMode: true, ws: false },
    optimizeDeps: { noDiscovery: true },
    logLevel: "silent",
  });
  try {
    const resolve = (id: string) =>
      vite.environments.client.pluginContainer.resolveId(id, join(appDir, "src/App.tsx")).then((r) => r?.id);
    expect([await resolve("@onecart/client"), await resolve("@onecart/client/react")]).toEqual([
      join(clientDist, "index.js"),
      join(clientDist, "react.js"),
    ]);
  } finally {
    await vite.close();
  }
});

/** The POS app: a Node script, a strict TypeScript module, a Vite page. */
async function writeConsumerApp(dir: string): Promise<void> {
  expect(relative(repoRoot, dir).startsWith("..")).toBe(true);
  const files: Record<string, string> = {
    "imports.mjs": `
import * as core from "@onecart/client";
import * as react from "@onecart/client/react";
console.log(JSON.stringify({ core: Object.keys(core), react: Object.keys(react), createOnecart: typeof core.createOnecart }));
`,
    "tap.mjs": `
import { createClient } from "@supabase/supabase-js";
import { createOnecart } from "@onecart/client";
const [apiUrl, anonKey, email, password, locationId, productId] = process.argv.slice(2);
const supabase = createClient(apiUrl, anonKey, { auth: { persistSession: false } });
const signIn = await supabase.auth.signInWithPassword({ email, password });
if (signIn.error) throw signIn.error;
const onecart = createOnecart({ supabase });
const cart = await onecart.openCart({ locationId, deviceId: "package-test" });
await cart.addItem(productId).done;
const shown = cart.getState().cart.items.map((item) => ({ product_id: item.product_id, quantity: item.quantity }));
await onecart.destroy();
await supabase.auth.signOut();
console.log(JSON.stringify({ cartId: cart.id, shown }));
// Whether destroy() leaves nothing running is another test's question; this one ends here.
process.exit(0);
`,
    "src/app.ts": `
import { createClient } from "@supabase/supabase-js";
import { createOnecart, memoryStorage, OnecartError, type Cart, type CartState, type Database, type Onecart } from "@onecart/client";
import { OnecartProvider, useCart, usePendingCount } from "@onecart/client/react";
import { createElement, type ReactElement } from "react";

const supabase = createClient("http://localhost:54321", "publishable-key");
export const onecart: Onecart = createOnecart({ supabase, storage: memoryStorage() });

export async function tap(locationId: string, productId: string): Promise<number> {
  const cart = await onecart.openCart({ locationId, deviceId: "till-1" });
  const answer: Cart = await cart.addItem(productId, { quantity: 1 }).done;
  const state: CartState = cart.getState();
  const lines: number = state.cart?.items.length ?? 0;
  // @ts-expect-error a product id is a string: the declarations type the taps, they are not \`any\`
  cart.addItem(42);
  // @ts-expect-error a cart's version is a number
  const version: string = answer.version;
  return answer.version + lines + version.length;
}

// @ts-expect-error a quantity is a number: the generated database types are in the package
export const quantity: Database["public"]["Functions"]["add_item"]["Args"]["p_quantity"] = "two";

export function describeError(error: unknown): string {
  return error instanceof OnecartError ? error.code : "unknown";
}

function Register(props: { cartId: string }): ReactElement {
  const [state, store] = useCart(props.cartId);
  // @ts-expect-error the hooks are typed too
  const items: string = state.cart?.items;
  const pending: number = usePendingCount();
  return createElement(
    "button",
    { onClick: () => store?.addItem("9a000000-0000-4000-8000-000000000001") },
    \`\${state.cart?.item_count ?? 0} (\${pending} sending) \${items}\`,
  );
}

export const root: ReactElement = createElement(OnecartProvider, { client: onecart }, createElement(Register, { cartId: "c" }));
`,
    "src/main.ts": `
import { createRoot } from "react-dom/client";
import { root } from "./app.js";

createRoot(document.getElementById("root")!).render(root);
`,
    "index.html": `<!doctype html>
<html><head><meta charset="utf-8"><title>POS</title></head>
<body><div id="root"></div><script type="module" src="/src/main.ts"></script></body></html>
`,
  };
  const compilerOptions = {
    target: "es2022",
    lib: ["es2022", "dom", "dom.iterable"],
    strict: true,
    noEmit: true,
    // As every app template has it: supabase-js's own declarations do not check
    // without it. The @ts-expect-error lines in src/app.ts fail instead when the
    // package's declarations do not resolve and its types fall back to \`any\`.
    skipLibCheck: true,
    types: [],
  };
  const tsconfig = (module: string, moduleResolution: string) =>
    JSON.stringify({ compilerOptions: { ...compilerOptions, module, moduleResolution }, include: ["src"] }, null, 2);
  files["tsconfig.nodenext.json"] = tsconfig("nodenext", "nodenext");
  files["tsconfig.bundler.json"] = tsconfig("esnext", "bundler");
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
}
