#!/usr/bin/env node
// The CLI is TypeScript compiled to build/node by `npm install` (postinstall) or `npm run build:node`;
// not under dist/, which `vite build` (npm start) empties.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../build/node/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('whycam: the CLI is not built yet. Run: npm run build:node');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
