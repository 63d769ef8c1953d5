// Waiting for something a test starts but does not control (a broadcast, a
// process, a lock waiter). It bounds how long a test waits; it asserts no
// timing, which the benchmarks measure instead.
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
