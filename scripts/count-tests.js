// Adds up the vitest and Playwright JSON reports into the one closing line CI reads.
import fs from 'node:fs';

let passed = 0;
let failed = 0;
let missing = false;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    if (file.includes('vitest')) missing = true;
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
if (missing) {
  console.log('The vitest report is missing: the unit tests did not run to the end.');
  failed += 1;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
