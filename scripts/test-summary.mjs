// Print the plain "N passed, N failed" line CI reads, from vitest's JSON report.
import { readFileSync } from 'node:fs';
let r;
try {
  r = JSON.parse(readFileSync(process.argv[2] ?? '.tmp/vitest-report.json', 'utf8'));
} catch (err) {
  console.log('0 passed, 1 failed');
  console.error(`test-summary: no vitest report (${err.message})`);
  process.exit(1);
}
const passed = r.numPassedTests ?? 0;
const failed = (r.numFailedTests ?? 0) + (r.numTotalTestSuites && r.success === false && !r.numFailedTests ? 1 : 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || passed === 0 ? 1 : 0);
