// The newest modification time under a path: how the build helpers tell a
// build older than its sources (0 when the path does not exist).
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export async function newest(path: string): Promise<number> {
  if (!existsSync(path)) return 0;
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = 0;
  for (const entry of await readdir(path)) {
    if (entry === "node_modules" || entry === "dist") continue;
    latest = Math.max(latest, await newest(join(path, entry)));
  }
  return latest;
}
