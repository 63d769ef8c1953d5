// Child processes that do not outlive us. On Linux `setpriv --pdeathsig` makes the
// kernel signal the child when this process dies, even by SIGKILL. Where setpriv
// is missing (macOS), the child is signalled from our exit handlers, which cover
// every exit but SIGKILL.
import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from "node:child_process";

let hasSetpriv: boolean | undefined;
function setprivAvailable(): boolean {
  if (hasSetpriv === undefined) {
    try {
      execFileSync("setpriv", ["--version"], { stdio: "ignore" });
      hasSetpriv = true;
    } catch {
      hasSetpriv = false;
    }
  }
  return hasSetpriv;
}

const orphans = new Set<ChildProcess>();
let exitHookInstalled = false;
function killOrphansOnExit(child: ChildProcess, signal: NodeJS.Signals) {
  orphans.add(child);
  child.once("exit", () => orphans.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const c of orphans) c.kill(signal);
  });
}

export interface TiedOptions extends SpawnOptions {
  /** The signal the child gets when we die. */
  deathSignal: NodeJS.Signals;
  /** Run the child as this OS user (needs root and setpriv). */
  user?: { uid: number; gid: number } | null;
}

export function spawnTied(command: string, args: string[], options: TiedOptions): ChildProcess {
  const { deathSignal, user, ...spawnOptions } = options;
  if (setprivAvailable()) {
    const setpriv = ["--pdeathsig", deathSignal];
    if (user) setpriv.push("--reuid", String(user.uid), "--regid", String(user.gid), "--clear-groups");
    return spawn("setpriv", [...setpriv, command, ...args], spawnOptions);
  }
  const child = spawn(command, args, { ...spawnOptions, ...(user ? { uid: user.uid, gid: user.gid } : {}) });
  killOrphansOnExit(child, deathSignal);
  return child;
}

/** Runs a tied command to completion; rejects with its output when it fails. */
export function runTied(command: string, args: string[], options: TiedOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnTied(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (c) => (output += c));
    child.stderr!.on("data", (c) => (output += c));
    child.once("error", reject);
    child.once(
      "exit",
      (code) => code === 0 ? resolve(output) : reject(new Error(`${command} exited with ${code}:\n${output}`)),
    );
  });
}
