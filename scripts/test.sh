#!/usr/bin/env bash
# The project's one test command (npm test): build the CLI, type-check, lint, then the unit tests
# (vitest) and the browser tests (Playwright, Debian's chromium; then vitest driving Debian's
# firefox-esr, and WebKitGTK's MiniBrowser). Ends with one line "tests: N passed, M failed" counting every runner; exits
# non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
mkdir -p test-results
rm -f test-results/vitest.json test-results/playwright.json test-results/vitest-firefox.json test-results/vitest-webkit.json
status=0
run() {
  echo "== $*"
  "$@" || { echo "!! failed: $*"; status=1; }
}
run npm run -s build:node
run npm run -s typecheck
run npm run -s lint
run npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
if [[ -d tests/e2e ]] && compgen -G 'tests/e2e/*.spec.ts' >/dev/null; then
  PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright.json run npx playwright test --reporter=list,json
fi
# The main flows again in Firefox (firefox-esr over WebDriver BiDi), one file at a time.
if [[ -d tests/firefox ]] && compgen -G 'tests/firefox/*.test.ts' >/dev/null; then
  run npx vitest run --config vitest.firefox.config.ts --reporter=default --reporter=json --outputFile.json=test-results/vitest-firefox.json
  firefox_report=test-results/vitest-firefox.json
else
  firefox_report=
fi
# And in WebKit, Safari's engine (WebKitGTK's MiniBrowser over WebDriver, under Xvfb), one file at a time.
if [[ -d tests/webkit ]] && compgen -G 'tests/webkit/*.test.ts' >/dev/null; then
  run npx vitest run --config vitest.webkit.config.ts --reporter=default --reporter=json --outputFile.json=test-results/vitest-webkit.json
  webkit_report=test-results/vitest-webkit.json
else
  webkit_report=
fi
node scripts/count-tests.js test-results/vitest.json test-results/playwright.json $firefox_report $webkit_report || status=1
exit $status
