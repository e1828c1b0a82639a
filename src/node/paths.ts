import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'whycam')
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('WhyCam: cannot find the project folder (package.json named "whycam").');
    dir = parent;
  }
}

/** The WhyCam checkout, found from this file whether it runs from src/ (tests) or build/node/ (the CLI). */
export const PROJECT_ROOT = findProjectRoot();

/** Where `npm run models` puts models: `models/<id>/`, or `WHYCAM_MODELS_DIR` if set. */
export function modelsDir(): string {
  return process.env['WHYCAM_MODELS_DIR']
    ? path.resolve(process.env['WHYCAM_MODELS_DIR'])
    : path.join(PROJECT_ROOT, 'models');
}
