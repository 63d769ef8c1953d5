// Prints one plain closing line, "onecart: N passed, N failed, N skipped", so a
// CI system or a script can count the tests without parsing vitest's colours. Unhandled
// errors count as failures, as vitest itself counts them.
import type { Reporter, SerializedError, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>) {
    const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
    for (const module of testModules) {
      if (module.state() === "failed" && [...module.children.allTests()].length === 0) counts.failed++;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") counts.failed++;
        else counts.skipped++;
      }
    }
    console.log(`\nonecart: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  }
}
