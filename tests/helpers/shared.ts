import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project checkout. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The read-only data beside the checkout (models, photos, videos); WHYCAM_SHARED overrides. */
export const SHARED = path.resolve(process.env['WHYCAM_SHARED'] ?? path.join(ROOT, '..', 'shared'));

export const SHARED_MODELS = path.join(SHARED, 'models');
export const PHOTOS = path.join(SHARED, 'images', 'photos');
export const VAL_BBOX = path.join(SHARED, 'images', 'imagenet-val-bbox');

if (!fs.existsSync(SHARED_MODELS)) {
  throw new Error(`Test data not found at ${SHARED}: the tests read ../shared (or WHYCAM_SHARED).`);
}

export function photo(name: string): string {
  return path.join(PHOTOS, name);
}
