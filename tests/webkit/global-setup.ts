import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { MINIBROWSER, WEBKIT_DRIVER } from '../../scripts/webkit.js';
import { ROOT } from '../helpers/shared.js';
import { APP_DIR } from './app.js';

/** Builds the app once for every WebKit test file, as `npm start` would (vite build). */
export default function setup(): void {
  for (const file of [WEBKIT_DRIVER, MINIBROWSER]) {
    if (!fs.existsSync(file)) throw new Error(`WebKit not found at ${file}: apt-get install webkit2gtk-driver xvfb.`);
  }
  // vitest sets NODE_ENV=test, which would make Vite build for development (no service worker, Lit in dev mode).
  const env = { ...process.env, NODE_ENV: 'production' };
  execFileSync('npx', ['vite', 'build', '--outDir', APP_DIR, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
    env,
  });
}
