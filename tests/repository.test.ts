// What keeps the repository usable by the next engineer: the Node-side
// TypeScript type-checks under strict settings, `npm ci` accepts the committed
// lockfile on every platform onecart's tools ship for, and every link in the
// README and the docs it links points at something that exists.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../scripts/lib/database.ts";

const run = promisify(execFile);
const npmEnv = { ...process.env, NO_COLOR: "1", npm_config_audit: "false", npm_config_fund: "false" };

// The functions are checked by deno check (tests/functions/deno.test.ts); everything else here.
for (const project of ["tsconfig.json", "client/tsconfig.json", "app/tsconfig.json"]) {
  it(`tsc --strict finds nothing in ${project}`, async () => {
    const result = await run(join(repoRoot, "node_modules/.bin/tsc"), ["-p", project], { cwd: repoRoot })
      .then(({ stdout }) => stdout, (error: { stdout: string }) => error.stdout);
    expect(result).toBe("");
  }, 120_000);
}

it("deno fmt --check finds every TypeScript file formatted (deno.json)", async () => {
  const result = await run(join(repoRoot, "node_modules/.bin/deno"), ["fmt", "--check"], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).then(
    ({ stdout, stderr }) => stdout + stderr,
    (error: { stdout: string; stderr: string }) => error.stdout + error.stderr,
  );
  expect(result).toMatch(/Checked \d+ files/);
  expect(result).not.toMatch(/not formatted/);
}, 120_000);

describe("npm ci accepts the committed lockfile", () => {
  // --os/--cpu make npm resolve as it would on that machine; a lockfile without
  // that platform's optional packages is refused there.
  for (
    const [os, cpu] of [["linux", "x64"], ["darwin", "arm64"], ["darwin", "x64"], ["win32", "x64"], ["linux", "arm64"]]
  ) {
    it(`on ${os}-${cpu}`, async () => {
      const { stdout } = await run("npm", ["ci", "--dry-run", "--ignore-scripts", "--os", os, "--cpu", cpu], {
        cwd: repoRoot,
        env: npmEnv,
      });
      expect(stdout).toMatch(/(added|up to date|removed)/);
    }, 60_000);
  }
});

/** The Markdown files a reader reaches from the README, the README first. */
async function linkedDocs(): Promise<string[]> {
  const docs = existsSync(join(repoRoot, "docs"))
    ? (await readdir(join(repoRoot, "docs"))).filter((n) => n.endsWith(".md")).map((n) => join(repoRoot, "docs", n))
    : [];
  return [join(repoRoot, "README.md"), join(repoRoot, "CHANGELOG.md"), ...docs].filter(existsSync);
}

function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

it("every relative link in the README and docs points at a file or heading in the repository", async () => {
  const broken: string[] = [];
  for (const file of await linkedDocs()) {
    const text = await readFile(file, "utf8");
    const withoutCode = text.replace(/```[\s\S]*?```/g, "");
    for (const [, target] of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
      const [path, anchor] = target.split("#");
      const resolved = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
      const where = `${relative(repoRoot, file)} → ${target}`;
      if (!resolved.startsWith(repoRoot + "/") && resolved !== repoRoot) {
        broken.push(`${where} (outside the repository)`);
      } else if (!existsSync(resolved)) {
        broken.push(`${where} (no such file)`);
      } else if (anchor && resolved.endsWith(".md")) {
        const headings = (await readFile(resolved, "utf8")).match(/^#+ .*$/gm) ?? [];
        if (!headings.some((h) => anchorOf(h.replace(/^#+ /, "")) === anchor)) {
          broken.push(`${where} (no such heading)`);
        }
      }
    }
  }
  expect(broken).toEqual([]);
});
