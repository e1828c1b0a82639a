import type * as tf from '@tensorflow/tfjs-core';
import { findModel, type ModelEntry, MODELS } from '../models/registry.js';
import { isWhyCamError, WhyCamError } from '../src/explain/errors.js';
import type { Explainer } from '../src/explain/methods/explainer.js';
import { explainerForEntry } from '../src/explain/models/registered-model.js';
import { readVerifiedEntry, type VerifiedModelFiles } from '../src/explain/models/model-files.js';
import {
  isTeachableMachineMetadata,
  openModel,
  type OpenedModel,
  pickedModelReader,
} from '../src/explain/models/open-model.js';
import { isOnnxFileName } from '../src/explain/models/onnx-model.js';
import { taughtMetadata } from '../src/explain/models/taught-format.js';
import { parseMetadata } from '../src/explain/models/teachable-machine.js';
import type { Normalization } from '../src/explain/network/normalization.js';
import type { DescribeModelMessage, PickedOrigin } from '../src/protocol.js';
import { describeError } from './error-report.js';
import type { Post } from './service-types.js';
import { MODEL_CACHE_PREFIX } from './model-cache.js';

/**
 * Fetches a registered model, in any registered format, from the app's own origin
 * (`<base>/<id>/…`, served from the project's models/ folder and cached offline), checks every
 * file, and builds its explainer.
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
  return explainerForEntry(entry, await fetchVerified(entry, baseUrl, onProgress));
}

/** What to do when the origin lacks a model's file: a default one ships with every build, the others on request. */
function missingFix(entry: ModelEntry): string {
  return entry.fetch === 'default'
    ? 'The app was built or deployed without this model. On the machine that serves WhyCam run `npm run models`, then `npm start` (or rebuild and redeploy).'
    : `${entry.displayName} is fetched on request. On the machine that serves WhyCam run \`npm run models -- --model ${entry.id}\`, then \`npm start\` (or rebuild and redeploy).`;
}

/** A registered model's checked files, read from the app's origin. */
async function fetchVerified(
  entry: ModelEntry,
  baseUrl: string,
  onProgress: (text: string) => void,
): Promise<VerifiedModelFiles> {
  const folder = `${baseUrl.replace(/\/+$/, '')}/${entry.id}`;
  try {
    return await readVerifiedEntry(
      entry,
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
        fix: missingFix(entry),
        onProgress: (done, total) => onProgress(`Loading ${entry.displayName}: ${Math.round((100 * done) / total)}%`),
      },
    );
  } catch (e) {
    // A damaged or stale copy in the offline cache would fail the same way on every later try:
    // forget this model's cached files, so that the next try fetches them again.
    if (isWhyCamError(e) && (e.code === 'model-corrupt' || e.code === 'model-missing')) await forgetCached(folder);
    throw e;
  }
}

/** Removes a model folder's files from the service worker's model caches (never the precached app). */
async function forgetCached(folder: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  const prefix = new URL(`${folder}/`, self.location.href).href;
  try {
    for (const name of await caches.keys()) {
      if (!name.startsWith(MODEL_CACHE_PREFIX)) continue;
      const cache = await caches.open(name);
      for (const request of await cache.keys()) if (request.url.startsWith(prefix)) await cache.delete(request);
    }
  } catch {
    // Cache storage can be unavailable (private mode, storage pressure): the error at hand is what matters.
  }
}

/** A taught model's base network: a registered LayersModel's checked files. */
async function fetchArtifacts(
  entry: ModelEntry,
  baseUrl: string,
  onProgress: (text: string) => void,
): Promise<tf.io.ModelArtifacts> {
  // Teaching appends a LayersModel head to a LayersModel base; a caffe network cannot be one.
  if (entry.format !== 'tfjs-layers') {
    throw new WhyCamError(
      'unsupported-model',
      `${entry.id} is a ${entry.format} model: a taught model's base must be a TF.js LayersModel.`,
    );
  }
  const files = await fetchVerified(entry, baseUrl, onProgress);
  if (files.format !== 'tfjs-layers') throw new Error(`internal: ${entry.id} read as ${files.format}`);
  return files.artifacts;
}

/**
 * A Teachable Machine export, a taught model or the user's own Keras model from files the user
 * picked (or the app stored); `normalize` is the own model's input normalisation (else assumed).
 */
export async function openPickedModel(
  files: readonly File[],
  baseUrl: string,
  onProgress: (text: string) => void,
  normalize?: Normalization,
): Promise<OpenedModel> {
  const read = await pickedModelReader(files);
  const opened = await openModel(read, {
    location: pickedLocation(files),
    loadBase: (entry) => fetchArtifacts(entry, baseUrl, onProgress),
    ...(normalize ? { normalize } : {}),
  });
  // An own model has no name inside: the page keeps it under the one describe gave, so it is shown by that too.
  return opened.kind === 'keras' ? { ...opened, name: ownModelName(files) } : opened;
}

/** Picked files as a person would name them: the zip's (or the one file's) name. */
function pickedLocation(files: readonly File[]): string {
  return files.length === 1 ? files[0]!.name : 'the picked files';
}

/** The name of an own model, which carries none: its zip's or folder's name, else "own model". */
function ownModelName(files: readonly File[]): string {
  const zip = files.length === 1 ? /^(.*)\.zip$/i.exec(files[0]!.name.split(/[\\/]/).pop()!) : null;
  // A folder picked whole (`webkitdirectory`) gives every file a path under the folder's name.
  // (Node's File has no such field: the unit tests' files.)
  const paths = files.map((f) => (f.webkitRelativePath as string | undefined) ?? '');
  const folder = paths.map((p) => p.split('/')).find((parts) => parts.length > 1)?.[0];
  return (zip?.[1] ?? folder ?? '').trim() || 'own model';
}

/**
 * What picked files are (the page keeps a model under its name and never unzips): a Teachable
 * Machine export or a taught model, from its metadata.json; the user's own Keras model (a
 * model.json without Teachable Machine metadata); or an error that names the file.
 */
export async function describePickedModel(files: readonly File[]): Promise<{ name: string; origin: PickedOrigin }> {
  const location = pickedLocation(files);
  const read = await pickedModelReader(files);
  const onnxName = read.names?.find(isOnnxFileName);
  if (onnxName) return { name: onnxName.replace(/\.onnx$/i, ''), origin: 'onnx' };
  const bytes = await read('metadata.json');
  if (!bytes || !isTeachableMachineMetadata(bytes)) {
    if (await read('model.json')) return { name: ownModelName(files), origin: 'keras' };
    throw new WhyCamError(
      'model-missing',
      `${location} has no model.json${bytes ? '' : ' and no metadata.json'}.`,
      'A Teachable Machine export is three files: model.json, weights.bin and metadata.json; your own Keras model is model.json with its weight files (and a labels.txt if you have one); your own ONNX model is its .onnx file (and a labels.txt). Pick them all, or the zip they came in.',
    );
  }
  const metadata = parseMetadata(bytes, location);
  return {
    name: metadata.modelName.trim() || 'Teachable Machine model',
    origin: taughtMetadata(metadata.raw, location) ? 'taught' : 'teachable-machine',
  };
}

/** Answers a `describe-model` message. */
export async function answerDescribe(m: DescribeModelMessage, post: Post): Promise<void> {
  try {
    post({ type: 'model-described', requestId: m.requestId, ok: true, ...(await describePickedModel(m.files)) });
  } catch (e) {
    const { code, message, hint } = describeError(e, false);
    post({ type: 'model-described', requestId: m.requestId, ok: false, code, message, hint });
  }
}
