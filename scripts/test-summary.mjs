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
// Skipped tests are named with the reason their suite gives (e.g. a missing redis-server), so a
// green line never hides work that did not run.
const skipped = [];
for (const file of r.testResults ?? []) {
  for (const t of file.assertionResults ?? []) {
    if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo') skipped.push(`${file.name.split('/').slice(-2).join('/')}: ${t.fullName ?? t.title}`);
  }
}
if (skipped.length) {
  let reasons = [];
  try { reasons = [...new Set(readFileSync('.tmp/skip-reasons.txt', 'utf8').split('\n').filter(Boolean))]; } catch { /* none written */ }
  console.log(`${skipped.length} skipped: ${reasons.length ? reasons.join('; ') : 'no reason recorded'}`);
  for (const s of skipped.slice(0, 20)) console.log(`  skipped ${s}`);
}
const failed = (r.numFailedTests ?? 0) + (r.numTotalTestSuites && r.success === false && !r.numFailedTests ? 1 : 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || passed === 0 ? 1 : 0);
