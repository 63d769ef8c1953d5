// Adds the lockfile entries for the platform packages that onecart's tools ship
// per operating system (Deno, the Supabase CLI and embedded Postgres each have a
// macOS, Windows and Linux build as optional dependencies). `npm install` writes
// entries only for the builds it could resolve where it ran, and `npm ci` refuses
// a lockfile that lacks the others, so a lockfile made on Linux would fail on a
// Mac. Each added entry names its package by version, with the os/cpu/libc its
// name states: npm skips it where it does not apply and, where it does, fetches
// that version from the registry (the entry has no integrity hash, so npm takes
// the registry's). Run after every `npm install`; tests/repository.test.ts checks
// that `npm ci` accepts the committed lockfile.
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const packages = lock.packages;

function platformOf(name) {
  const tail = name.split("/").pop();
  const os = ["darwin", "linux", "win32", "windows", "freebsd", "openbsd", "netbsd", "sunos", "aix", "android"]
    .find((o) => tail.includes(o));
  const cpu = ["arm64", "x64", "ia32", "arm", "ppc64", "s390x", "riscv64", "loong64", "mips64el"]
    .find((c) => new RegExp(`(^|-)${c}($|-)`).test(tail));
  if (!os || !cpu) return null;
  const entry = { os: [os === "windows" ? "win32" : os], cpu: [cpu] };
  if (tail.includes("musl")) entry.libc = ["musl"];
  else if (tail.includes("glibc") || (os === "linux" && tail.includes("gnu"))) entry.libc = ["glibc"];
  return entry;
}

let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (packages[key] || packages[`${path}/${key}`]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    packages[key] = { version: range.replace(/^[~^=]/, ""), optional: true, ...platform };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + "\n");
console.log(`complete-lockfile: added ${added} platform entries`);
