// The processes a test started, as the operating system sees them.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The pids still in process group `pgid` (none once everything it started has exited). */
export function groupMembers(pgid: number): Promise<string[]> {
  return run("pgrep", ["-g", String(pgid)]).then(({ stdout }) => stdout.split("\n").filter(Boolean), () => []);
}
