import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MODEL_ID, findModel, mirrorFolders, MODELS, type ModelEntry } from '../../models/registry.js';
import { WhyCamError } from '../explain/errors.js';
import type { Explainer } from '../explain/methods/explainer.js';
import { explainerForEntry } from '../explain/models/registered-model.js';
import { type ModelFileReader, readVerifiedEntry } from '../explain/models/model-files.js';
import { modelsDir } from './paths.js';

export function fileReader(dir: string): ModelFileReader {
  return async (name) => {
    try {
      const buf = await fs.readFile(path.join(dir, name));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  };
}

export function modelEntry(id: string): ModelEntry {
  const entry = findModel(id);
  if (!entry) {
    throw new WhyCamError(
      'bad-option',
      `Unknown model "${id}".`,
      `Registered models: ${MODELS.map((m) => m.id).join(', ')}.`,
    );
  }
  return entry;
}

/**
 * Loads a registered model, in any registered format, from `models/<id>/` (checked file by file
 * first) and wraps it in an Explainer. The caller owns the explainer and must dispose it.
 */
export async function loadExplainerFromDisk(id: string = DEFAULT_MODEL_ID, dir = modelsDir()): Promise<Explainer> {
  const entry = modelEntry(id);
  // `dir` may be a mirror, which keeps an export under its own folder name.
  const folders = mirrorFolders(entry).map((f) => path.join(dir, f));
  const folder = (await firstExisting(folders)) ?? folders[0]!;
  const files = await readVerifiedEntry(entry, fileReader(folder), {
    location: path.relative(process.cwd(), folder) || folder,
    fix: `Run: npm run models -- --model ${id}   (or with --from DIR to copy from a local mirror)`,
  });
  return explainerForEntry(entry, files);
}

async function firstExisting(folders: string[]): Promise<string | undefined> {
  for (const f of folders) {
    if (
      await fs.stat(f).then(
        (st) => st.isDirectory(),
        () => false,
      )
    )
      return f;
  }
  return undefined;
}
