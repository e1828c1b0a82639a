import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { FIREFOX } from '../../scripts/firefox.js';
import { ROOT } from '../helpers/shared.js';
import { APP_DIR } from './app.js';

/** Builds the app once for every Firefox test file, as `npm start` would (vite build). */
export default function setup(): void {
  if (!fs.existsSync(FIREFOX)) {
    throw new Error(`Firefox not found at ${FIREFOX}: apt-get install firefox-esr (or set FIREFOX=/path/to/firefox).`);
  }
  // vitest sets NODE_ENV=test, which would make Vite build for development (no service worker, Lit in dev mode).
  const env = { ...process.env, NODE_ENV: 'production' };
  execFileSync('npx', ['vite', 'build', '--outDir', APP_DIR, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
    env,
  });
}
