import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import type { ExplainRecord } from '../../src/cli/explain-command.js';
import { readImage } from '../../src/node/image-io.js';
import { whycam } from '../helpers/cli.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo, ROOT, SHARED_MODELS } from '../helpers/shared.js';

// The README's set-up, `npm install && npm start`, then `npx whycam explain …`: the install builds
// the CLI, `npm start` runs the app's production build (which empties its output folder), and the
// CLI must still be there afterwards.

/** Runs a Node script of the project (as npm scripts do), failing with its output if it fails. */
function node(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')} exited with ${code}:\n${output}`)),
    );
  });
}

test('the CLI still works after the production build of the app', async () => {
  await node(['node_modules/typescript/bin/tsc', '-p', 'tsconfig.node.json']); // what `npm install` runs (build:node)
  await node(['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn']); // what `npm start` runs first
  expect(fs.existsSync(path.join(ROOT, 'dist', 'index.html'))).toBe(true);
  const r = await whycam(['explain', photo('sherlock_golden_retriever.jpg'), '--json'], {
    WHYCAM_MODELS_DIR: SHARED_MODELS,
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const record = JSON.parse(r.stdout) as ExplainRecord;
  expect(record.predictions[0]).toMatchObject({ classIndex: 207, label: 'golden retriever' });
  // The same score as the engine gives in this process (WASM and the whole picture, the CLI's defaults).
  const explainer = await mirrorExplainer('wasm');
  try {
    const { predictions } = await explainer.classify(await readImage(photo('sherlock_golden_retriever.jpg')), {
      crop: 'full',
    });
    expect(predictions[0]!.classIndex).toBe(207);
    expect(record.predictions[0]!.score).toBeCloseTo(predictions[0]!.score, 4);
  } finally {
    explainer.dispose();
  }
});
