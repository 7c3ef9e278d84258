// Prints the one closing line CI recognises, "N passed, N failed", from vitest's JSON report(s).
// Several reports (one per Node version) are summed into that one line; a missing or unreadable
// report counts as one failure, so a run that crashed before reporting cannot pass.
import { readFileSync } from 'node:fs';

const files = process.argv.length > 2 ? process.argv.slice(2) : ['test-results/vitest.json'];
let passed = 0;
let failed = 0;
for (const file of files) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    const failedSuites = (report.testResults ?? []).filter((suite) => suite.status === 'failed' && suite.assertionResults?.length === 0).length;
    passed += report.numPassedTests;
    failed += report.numFailedTests + failedSuites;
  } catch {
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
