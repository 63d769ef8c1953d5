// A KeyValueStorage over files in one directory, as a desktop app's processes
// might share one: each key a file, written whole by rename so a reader never
// sees half a record.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KeyValueStorage } from "../../client/src/index.ts";

export function fileStorage(dir: string): KeyValueStorage {
  mkdirSync(dir, { recursive: true });
  const file = (key: string) => join(dir, encodeURIComponent(key));
  let n = 0;
  return {
    getItem(key) {
      try {
        return readFileSync(file(key), "utf8");
      } catch {
        return null;
      }
    },
    setItem(key, value) {
      const temp = join(dir, `.${process.pid}.${n++}.tmp`);
      writeFileSync(temp, value);
      renameSync(temp, file(key));
    },
    removeItem(key) {
      rmSync(file(key), { force: true });
    },
    keys(prefix) {
      return readdirSync(dir).filter((name) => !name.startsWith(".")).map(decodeURIComponent)
        .filter((key) => key.startsWith(prefix));
    },
  };
}
