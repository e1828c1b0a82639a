// Adds up the vitest, Playwright, Firefox and WebKit (vitest) JSON reports into the one closing line CI reads.
// A vitest report that was asked for but is missing counts as a failure: its runner died.
import fs from 'node:fs';

let passed = 0;
let failed = 0;
const missing = [];
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    if (file.includes('vitest')) missing.push(file);
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  if ('numPassedTests' in report) {
    passed += report.numPassedTests;
    failed += report.numFailedTests;
  } else if (report.stats) {
    passed += report.stats.expected + report.stats.flaky;
    failed += report.stats.unexpected;
  }
}
for (const file of missing) {
  console.log(`${file} is missing: its tests did not run to the end.`);
  failed += 1;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
