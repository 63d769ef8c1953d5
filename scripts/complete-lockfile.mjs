// Adds lockfile entries for platform packages that a partial registry mirror does
// not serve (this workplace's mirror holds linux-x64 builds only). npm writes no
// entry for an optional dependency it cannot fetch, and `npm ci` then refuses
// the lockfile on every machine. Each added entry carries the os/cpu/libc that
// its name states, so npm skips it where it does not apply and fetches it by
// version from the full registry where it does. Run after `npm install`.
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
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)));
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + "\n");
console.log(`complete-lockfile: added ${added} platform entries`);
