// Prints the one closing line CI recognises, "N passed, N failed", from vitest's JSON report.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const failedSuites = (report.testResults ?? []).filter((suite) => suite.status === 'failed' && suite.assertionResults?.length === 0).length;
  console.log(`${report.numPassedTests} passed, ${report.numFailedTests + failedSuites} failed`);
} catch {
  console.log('0 passed, 1 failed');
}
