// Route arguments are typed from the generated database types: a misspelled,
// missing or mistyped RPC parameter is a `deno check` error, not a run-time one.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/database.ts";
import { denoBin } from "../../scripts/lib/stack.ts";

const run = promisify(execFile);

it("deno check refuses a route whose args misspell, omit or mistype a parameter", async () => {
  const dir = await mkdtemp(join(tmpdir(), "onecart-routes-"));
  const http = pathToFileURL(join(repoRoot, "functions/_shared/http.ts")).href;
  const file = join(dir, "routes.ts");
  await writeFile(
    file,
    [
      `import { route } from "${http}";`,
      `export const right = route({ method: "DELETE", path: "/:id", rpc: "remove_item",`,
      `  args: () => ({ p_cart_id: "c", p_item_id: "i", p_expected_version: 3 }) });`,
      `export const misspelled = route({ method: "DELETE", path: "/:id", rpc: "remove_item",`,
      `  args: () => { return { p_cart_id: "c", p_item_id: "i", p_expected_versoin: 3 }; } });`,
      `export const missing = route({ method: "GET", path: "/:id", rpc: "get_cart", args: () => ({}) });`,
      `export const mistyped = route({ method: "POST", path: "/:id/items", rpc: "add_item",`,
      `  args: () => ({ p_cart_id: "c", p_product_id: "p", p_quantity: "2" }) });`,
      "",
    ].join("\n"),
  );
  try {
    const failure = await run(denoBin, ["check", "--config", join(repoRoot, "deno.json"), file], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    }).then(() => null, (error: { stderr: string }) => error.stderr);
    expect(failure, "deno check passed a misspelled parameter").not.toBeNull();
    const lines = [...failure!.matchAll(/routes\.ts:(\d+):\d+/g)].map((m) => Number(m[1]));
    expect([...new Set(lines)].sort()).toEqual([5, 6, 8]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 180_000);
