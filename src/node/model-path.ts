import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_ID, defaultView, findModel, type ModelEntry, MODELS } from '../../models/registry.js';
import type { DefaultView } from '../explain/methods/names.js';
import { WhyCamError } from '../explain/errors.js';
import type { Explainer } from '../explain/methods/explainer.js';
import type { CropPolicy } from '../explain/runtime/preprocess.js';
import { type ModelFileReader, readVerifiedModel } from '../explain/models/model-files.js';
import { isOnnxFileName } from '../explain/models/onnx-model.js';
import { openModel, type OpenedModel, readerForArchive } from '../explain/models/open-model.js';
import { parseLabelLines } from '../explain/models/own-model.js';
import { NORMALIZATIONS, type Normalization, parseNormalization } from '../explain/network/normalization.js';
import { fileReader, loadExplainerFromDisk } from './load-model.js';
import { modelsDir } from './paths.js';

/** A registered model's verified files from `models/<id>/` (the base of a taught model). */
export function registeredArtifacts(dir = modelsDir()): (entry: ModelEntry) => Promise<tf.io.ModelArtifacts> {
  return async (entry) => {
    // Teaching appends a LayersModel head to a LayersModel base; a caffe network cannot be one.
    if (entry.format !== 'tfjs-layers') {
      throw new WhyCamError(
        'unsupported-model',
        `${entry.id} is a ${entry.format} model: a taught model's base must be a TF.js LayersModel.`,
      );
    }
    const folder = path.join(dir, entry.id);
    return readVerifiedModel(fileReader(folder), {
      location: path.relative(process.cwd(), folder) || folder,
      sha256: entry.sha256,
      fix: `A taught model reads the registered model ${entry.id}. Run: npm run models -- --model ${entry.id}`,
    });
  };
}

/**
 * Opens a Teachable Machine export or a taught model from a folder holding its three files, or
 * from the zip it was downloaded as. The caller owns the explainer and must dispose it.
 */
export async function openModelAt(
  location: string,
  baseDir = modelsDir(),
  own: { labels?: readonly string[]; normalize?: Normalization } = {},
): Promise<OpenedModel> {
  let stat;
  try {
    stat = await fs.stat(location);
  } catch {
    throw new WhyCamError('model-missing', `${location} does not exist.`);
  }
  const loadBase = registeredArtifacts(baseDir);
  if (stat.isFile() && isOnnxFileName(location)) {
    // The one file, with a labels.txt beside it if there is one.
    const read = fileReader(path.dirname(location));
    const reader: ModelFileReader = Object.assign((name: string) => read(name), {
      names: [path.basename(location)],
    });
    return openModel(reader, { location, loadBase, ...own });
  }
  if (stat.isDirectory()) return openModel(fileReader(location), { location, loadBase, ...own });
  const buf = await fs.readFile(location);
  return openModel(readerForArchive(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), location), {
    location,
    loadBase,
    ...own,
  });
}

interface LoadedModel {
  explainer: Explainer;
  name: string;
  /** Which methods are exact for the model's head (null for registered ImageNet models). */
  notes: string | null;
  /** For the user's own model: what was recognised and what was assumed (empty otherwise). */
  summary: string[];
  /** The live app's default view: the registry's for its models, LayerCAM at the last conv map for others. */
  view: DefaultView;
  /** The crop the model was trained with, where it is known (Teachable Machine and taught models: the centre square). */
  crop: CropPolicy | null;
}

/** The command-line options every command shares for choosing a model. */
export const MODEL_OPTIONS = {
  model: { type: 'string' },
  labels: { type: 'string' },
  normalize: { type: 'string' },
} as const;

export const MODEL_USAGE = `  --model ID|DIR|ZIP  ${DEFAULT_MODEL_ID} (default) or another id from \`whycam models --list\`
                      (${MODELS.map((m) => m.id).join(', ')}), or the folder (or .zip) of a Teachable Machine
                      "TensorFlow.js" image export, a taught model, your own Keras model (tensorflowjs_converter),
                      or your own ONNX model (a .onnx file; a labels.txt beside it is read)
  --labels FILE       your own model's labels, one a line (else metadata.json, labels.txt, or class numbers)
  --normalize N       your own model's input: ${NORMALIZATIONS.join(' | ')} (else assumed minus-one-to-one;
                      ONNX: imagenet, as torchvision's models)`;

/**
 * What `--model` names: a registered model id (default the registry's default), or a folder or
 * zip holding a Teachable Machine export, a taught model or the user's own Keras model
 * (`--labels`, `--normalize` apply to that one).
 */
export async function loadModelOption(
  options: { model?: string | undefined; labels?: string | undefined; normalize?: string | undefined },
  dir = modelsDir(),
): Promise<LoadedModel> {
  const value = options.model;
  const normalize = options.normalize === undefined ? undefined : parseNormalization(options.normalize);
  if (value === undefined || findModel(value)) {
    if (options.labels !== undefined || normalize !== undefined) {
      throw new WhyCamError(
        'bad-option',
        '--labels and --normalize apply to your own model (--model DIR, ZIP or .onnx file), not to a registered one.',
      );
    }
    const id = value ?? DEFAULT_MODEL_ID;
    return {
      explainer: await loadExplainerFromDisk(id, dir),
      name: id,
      notes: null,
      summary: [],
      crop: null,
      view: defaultView(id),
    };
  }
  const exists = await fs.stat(value).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new WhyCamError(
      'bad-option',
      `Unknown model "${value}": not a registered model, nor a folder or zip of one.`,
      `Registered models: ${MODELS.map((m) => m.id).join(', ')}; or give the folder (or .zip) of a Teachable Machine "TensorFlow.js" export or a taught model.`,
    );
  }
  let labels: string[] | undefined;
  if (options.labels !== undefined) {
    const text = await fs.readFile(options.labels, 'utf8').catch(() => {
      throw new WhyCamError('bad-option', `--labels ${options.labels}: no such file.`);
    });
    labels = parseLabelLines(text);
  }
  const opened = await openModelAt(value, dir, { ...(labels ? { labels } : {}), ...(normalize ? { normalize } : {}) });
  const own = opened.kind === 'keras' || opened.kind === 'onnx';
  return {
    explainer: opened.explainer,
    name: own ? opened.name : `${opened.name} (${path.basename(path.resolve(value))})`,
    notes: opened.methodNotes,
    summary: opened.summary,
    // Teachable Machine and taught models were trained on the centre square; nothing is known of one's own.
    crop: own ? null : 'center',
    view: { ...defaultView(''), layer: opened.explainer.lastConvLayer },
  };
}
