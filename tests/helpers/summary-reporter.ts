// Prints one plain closing line, "onecart: N passed, N failed, N skipped", so a
// CI system or a script can count the tests without parsing vitest's colours.
// Failed means everything vitest itself fails the run for: a failed test, a test
// that never ran because a beforeAll above it threw (vitest reports it as
// skipped), a file or suite whose hooks threw after its tests passed, and an
// unhandled error. Skipped means skipped on purpose (`skip`, `todo`, `only`).
import type { Reporter, SerializedError, TestCase, TestModule, TestSuite } from "vitest/node";

type Block = TestSuite | TestModule;

/** The file and suites around a test, innermost first. */
function blocksAround(test: TestCase): Block[] {
  const blocks: Block[] = [];
  for (let block: Block = test.parent;; block = block.parent) {
    blocks.push(block);
    if (block.type === "module") return blocks;
  }
}

function summarize(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>) {
  const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
  // Blocks whose own errors (collection, hooks) some test's failure already counts.
  const accounted = new Set<Block>();
  const broken = (block: Block) => block.errors().length > 0;
  for (const module of testModules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      const brokenAbove = blocksAround(test).filter(broken);
      if (state === "passed") counts.passed++;
      else if (state === "failed") counts.failed++;
      else if (brokenAbove.length > 0 && test.options.mode === "run") {
        counts.failed++;
        brokenAbove.forEach((b) => accounted.add(b));
      } else counts.skipped++;
    }
    for (const block of [module, ...module.children.allSuites()]) {
      if (broken(block) && !accounted.has(block)) counts.failed++;
    }
  }
  return counts;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>) {
    const counts = summarize(testModules, unhandledErrors);
    console.log(`\nonecart: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  }
}
