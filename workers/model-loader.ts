import type * as tf from '@tensorflow/tfjs-core';
import { findModel, type ModelEntry, MODELS } from '../models/registry.js';
import { WhyCamError } from '../src/explain/errors.js';
import type { Explainer } from '../src/explain/methods/explainer.js';
import { explainerForEntry } from '../src/explain/models/registered-model.js';
import { readVerifiedModel } from '../src/explain/models/model-files.js';
import { openModel, type OpenedModel, pickedModelReader } from '../src/explain/models/open-model.js';

/**
 * Fetches a registered model from the app's own origin (`<base>/<id>/…`, served from the
 * project's models/ folder and cached offline), checks every file, and builds its explainer.
 */
export async function fetchExplainer(
  id: string,
  baseUrl: string,
  onProgress: (text: string) => void,
): Promise<Explainer> {
  const entry = findModel(id);
  if (!entry) {
    throw new WhyCamError(
      'bad-option',
      `Unknown model "${id}".`,
      `Known models: ${MODELS.map((m) => m.id).join(', ')}.`,
    );
  }
  return explainerForEntry(entry, await fetchArtifacts(entry, baseUrl, onProgress));
}

/** A registered model's checked files (a taught model's base network comes from here too). */
export async function fetchArtifacts(
  entry: ModelEntry,
  baseUrl: string,
  onProgress: (text: string) => void,
): Promise<tf.io.ModelArtifacts> {
  const folder = `${baseUrl.replace(/\/+$/, '')}/${entry.id}`;
  return readVerifiedModel(
    async (name) => {
      let response: Response;
      try {
        response = await fetch(`${folder}/${name}`);
      } catch {
        throw new WhyCamError(
          'network',
          `${folder}/${name} could not be fetched (offline, and not cached yet).`,
          'Connect once so the app can cache the model, or open it from the machine that serves it.',
        );
      }
      // A missing file can come back as the app's own page (SPA fallback): treat HTML as missing.
      if (response.status === 404 || (response.headers.get('content-type') ?? '').includes('text/html')) return null;
      if (!response.ok) throw new WhyCamError('model-missing', `${folder}/${name}: HTTP ${response.status}.`);
      return new Uint8Array(await response.arrayBuffer());
    },
    {
      location: folder,
      sha256: entry.sha256,
      fix: 'The app was built or deployed without this model. On the machine that serves WhyCam run `npm run models`, then `npm start` (or rebuild and redeploy).',
      onProgress: (done, total) => onProgress(`Loading ${entry.displayName}: ${Math.round((100 * done) / total)}%`),
    },
  );
}

/** A Teachable Machine export or a taught model from files the user picked (or the app stored). */
export async function openPickedModel(
  files: readonly File[],
  baseUrl: string,
  onProgress: (text: string) => void,
): Promise<OpenedModel> {
  const read = await pickedModelReader(files);
  const location = files.length === 1 ? files[0]!.name : 'the picked files';
  return openModel(read, { location, loadBase: (entry) => fetchArtifacts(entry, baseUrl, onProgress) });
}
