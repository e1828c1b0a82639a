import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { findModel, type ModelEntry } from '../../../models/registry.js';
import { WhyCamError } from '../errors.js';
import { Explainer } from '../methods/explainer.js';
import { LabelSet } from '../network/labels.js';
import type { Normalization } from '../network/normalization.js';
import {
  entryBytes,
  type ModelFileReader,
  type PickedFile,
  pickedFilesReader,
  readVerifiedModel,
} from './model-files.js';
import { type TaughtMetadata, taughtMetadata } from './taught-format.js';
import {
  flattenTopology,
  loadFlattened,
  type ModelMetadata,
  parseMetadata,
  TEACHABLE_MACHINE_INPUT_RANGE,
} from './teachable-machine.js';
import { importKeras } from './importers/keras.js';
import { isOnnxFileName, openOnnxModel } from './onnx-model.js';
import { openOwnModel } from './own-model.js';
import { looksLikeZip, zipReader } from './zip.js';

/** A model opened from files: a Teachable Machine image export, a model taught in WhyCam, or the user's own Keras model. */
export interface OpenedModel {
  explainer: Explainer;
  name: string;
  kind: 'teachable-machine' | 'taught' | 'keras' | 'onnx';
  /** For the user's own model: what was recognised and what was assumed (empty otherwise). */
  summary: string[];
  labels: readonly string[];
  /** The registered model a taught head reads from. */
  baseModel: string | null;
  /** Accuracy on held-back examples when the model was taught, if known. */
  accuracy: number | null;
  /** Which methods are exact for this head, and why CAM is unavailable where it is. */
  methodNotes: string;
}

interface OpenOptions {
  /** Where the files are, as a person would name it ("the picked files", a folder path). */
  location: string;
  /** The verified files of a registered model: a taught model names its base model instead of copying it. */
  loadBase: (entry: ModelEntry) => Promise<tf.io.ModelArtifacts>;
  /** For the user's own model: one label per class (else metadata.json, labels.txt, or class numbers). */
  labels?: readonly string[];
  /** For the user's own model: how its input is normalised (else assumed, and said). */
  normalize?: Normalization;
}

const THREE_FILES =
  'A Teachable Machine export (or a model taught in WhyCam) is three files: model.json, weights.bin and metadata.json. Pick all three, or the zip they came in.';

/** The files the user picked: the three files (or a folder of them), or one zip. */
export async function pickedModelReader(files: readonly PickedFile[]): Promise<ModelFileReader> {
  if (files.length === 1 && /\.zip$/i.test(files[0]!.name)) {
    const bytes = new Uint8Array(await files[0]!.arrayBuffer());
    return zipReader(bytes, files[0]!.name);
  }
  return pickedFilesReader(files);
}

/** Reads the bytes of one model file in a zip or a folder, whichever `bytes` turns out to be. */
export function readerForArchive(bytes: Uint8Array, location: string): ModelFileReader {
  if (!looksLikeZip(bytes)) throw new WhyCamError('model-corrupt', `${location} is not a zip archive.`, THREE_FILES);
  return zipReader(bytes, location);
}

/**
 * Opens a Teachable Machine image export or a taught model: checks that every file is there
 * (a missing one is named), reads the labels from metadata.json, and builds an explainer that
 * crops and scales the input the way the model was trained.
 */
export async function openModel(read: ModelFileReader, options: OpenOptions): Promise<OpenedModel> {
  const { location } = options;
  const onnxName = read.names?.find(isOnnxFileName);
  if (onnxName) return openOnnx(read, onnxName, options);
  const [metadataBytes, modelBytes] = await Promise.all([read('metadata.json'), read('model.json')]);
  if (!modelBytes) {
    throw new WhyCamError(
      'model-missing',
      `${location} has no model.json.`,
      `${THREE_FILES} Your own Keras model: model.json and its weight files (from tensorflowjs_converter), with a labels.txt if you have one.`,
    );
  }
  const raw = metadataBytes ? parseJsonObject(metadataBytes) : null;
  if (!raw || !isTeachableMachineOrTaught(raw)) {
    const artifacts = await readVerifiedModel(read, {
      location,
      fix: 'Export the model again with tensorflowjs_converter.',
    });
    const own = await openOwnModel(read, artifacts, raw, options);
    return {
      explainer: own.explainer,
      name: location.split(/[\\/]/).pop() || 'own model',
      kind: 'keras',
      summary: own.summary,
      labels: own.labels,
      baseModel: null,
      accuracy: null,
      methodNotes: methodNotes(own.explainer),
    };
  }
  const metadata = parseMetadata(metadataBytes!, location);
  const artifacts = await readVerifiedModel(read, { location, fix: THREE_FILES });
  const taught = taughtMetadata(metadata.raw, location);
  if (taught) return openTaught(artifacts, metadata, taught, options);

  const model = await loadFlattened(artifacts, location);
  const [, h, w] = model.inputs[0]!.shape;
  const explainer = makeExplainer(
    model,
    metadata,
    [h ?? metadata.imageSize, w ?? metadata.imageSize],
    TEACHABLE_MACHINE_INPUT_RANGE,
  );
  return {
    explainer,
    name: metadata.modelName,
    kind: 'teachable-machine',
    summary: [],
    labels: metadata.labels,
    baseModel: null,
    accuracy: null,
    methodNotes: methodNotes(explainer),
  };
}

/** The user's own ONNX model: its one `.onnx` file, and a labels.txt if one came with it. */
async function openOnnx(read: ModelFileReader, fileName: string, options: OpenOptions): Promise<OpenedModel> {
  const [bytes, labelsBytes] = await Promise.all([read(fileName), read('labels.txt')]);
  const own = openOnnxModel(bytes!, {
    location: fileName,
    labelsText: labelsBytes ? new TextDecoder().decode(labelsBytes) : null,
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.normalize ? { normalize: options.normalize } : {}),
  });
  return {
    explainer: own.explainer,
    name: fileName.replace(/\.onnx$/i, ''),
    kind: 'onnx',
    summary: own.summary,
    labels: own.labels,
    baseModel: null,
    accuracy: null,
    methodNotes: methodNotes(own.explainer),
  };
}

function makeExplainer(
  model: tfl.LayersModel,
  metadata: ModelMetadata,
  inputSize: readonly [number, number],
  inputRange: readonly [number, number],
): Explainer {
  // The explainer owns the graph and so the model, also when it refuses them.
  return new Explainer(importKeras(model), { labels: new LabelSet(metadata.labels), inputSize, inputRange });
}

/** The taught head appended to its base network's pooling, as one model. */
async function openTaught(
  head: tf.io.ModelArtifacts,
  metadata: ModelMetadata,
  taught: TaughtMetadata,
  options: OpenOptions,
): Promise<OpenedModel> {
  const entry = findModel(taught.baseModel);
  if (!entry) {
    throw new WhyCamError(
      'unsupported-model',
      `${options.location} was taught on "${taught.baseModel}", a base model this WhyCam does not have.`,
      'Open it in a WhyCam version that has that model, or teach the classes again.',
    );
  }
  const base = await options.loadBase(entry);
  const model = await tfl.loadLayersModel(tf.io.fromMemory(appendHead(base, taught.baseLayer, head, options.location)));
  const explainer = makeExplainer(model, metadata, entry.inputSize, entry.inputRange);
  return {
    explainer,
    name: metadata.modelName,
    kind: 'taught',
    summary: [],
    labels: metadata.labels,
    baseModel: entry.id,
    accuracy: taught.accuracy,
    methodNotes: methodNotes(explainer),
  };
}

interface TopologyLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

/**
 * The base network cut at `pool` with the head's layers after it, and the weights of both (the
 * base's classifier and its weights are left out).
 */
function appendHead(
  base: tf.io.ModelArtifacts,
  pool: string,
  head: tf.io.ModelArtifacts,
  location: string,
): tf.io.ModelArtifacts {
  const flatBase = flattenTopology(base.modelTopology);
  const baseLayers = (flatBase['config'] as { layers: TopologyLayer[] }).layers;
  const byName = new Map(baseLayers.map((l) => [l.name, l]));
  const poolLayer = byName.get(pool);
  if (poolLayer?.class_name !== 'GlobalAveragePooling2D') {
    throw new WhyCamError(
      'model-corrupt',
      `${location}/metadata.json names "${pool}" as the base model's pooling layer; it has none by that name.`,
    );
  }
  const kept = new Set<string>();
  const visit = (name: string): void => {
    if (kept.has(name)) return;
    kept.add(name);
    for (const node of byName.get(name)!.inbound_nodes) for (const [input] of node) visit(input);
  };
  visit(pool);

  const headLayers = (flattenTopology(head.modelTopology)['config'] as { layers: TopologyLayer[] }).layers.filter(
    (l) => l.class_name !== 'InputLayer',
  );
  if (headLayers.length === 0 || headLayers.some((l) => kept.has(l.name))) {
    throw new WhyCamError(
      'model-corrupt',
      `${location}/model.json holds no head, or one whose layer names clash with the base model.`,
    );
  }
  const [first, ...rest] = headLayers;
  const layers = [
    ...baseLayers.filter((l) => kept.has(l.name)),
    { ...first!, inbound_nodes: [[[pool, 0, 0, {}]]] },
    ...rest,
  ];
  const modelTopology = {
    ...flatBase,
    config: { ...(flatBase['config'] as object), layers, output_layers: [[headLayers.at(-1)!.name, 0, 0]] },
  };

  const keptWeights = sliceWeights(base, (name) => kept.has(name.slice(0, name.lastIndexOf('/'))));
  const headWeights = sliceWeights(head, () => true);
  const weightData = new Uint8Array(keptWeights.bytes.byteLength + headWeights.bytes.byteLength);
  weightData.set(keptWeights.bytes);
  weightData.set(headWeights.bytes, keptWeights.bytes.byteLength);
  return { modelTopology, weightSpecs: [...keptWeights.specs, ...headWeights.specs], weightData: weightData.buffer };
}

function sliceWeights(
  artifacts: tf.io.ModelArtifacts,
  keep: (name: string) => boolean,
): { specs: tf.io.WeightsManifestEntry[]; bytes: Uint8Array } {
  const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    const size = entryBytes(spec);
    if (keep(spec.name)) {
      specs.push(spec);
      parts.push(data.subarray(offset, offset + size));
    }
    offset += size;
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.byteLength;
  }
  return { specs, bytes };
}

/** metadata.json as an object, or null when it is not one (then it is not a Teachable Machine export either). */
function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | null {
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Whether metadata.json's bytes are a Teachable Machine export's or a taught model's; any other
 * (or none that parses) belongs to the user's own model. The worker asks the same before opening.
 */
export function isTeachableMachineMetadata(bytes: Uint8Array): boolean {
  const raw = parseJsonObject(bytes);
  return raw !== null && isTeachableMachineOrTaught(raw);
}

/** Teachable Machine writes its version (`tmVersion`) or package name; WhyCam's taught models name their base. */
function isTeachableMachineOrTaught(raw: Record<string, unknown>): boolean {
  return (
    'tmVersion' in raw ||
    (typeof raw['packageName'] === 'string' && raw['packageName'].startsWith('@teachablemachine/')) ||
    'whycam' in raw
  );
}

/** One line: which methods are exact for the model's head, or why CAM does not apply. */
function methodNotes(explainer: Explainer): string {
  const network = explainer.network;
  if (network.camLayer) {
    return `The head is linear after global average pooling: CAM at ${network.camLayer} is exact (the class's head weights), and so is Grad-CAM there with the logit reduction; LayerCAM, Grad-CAM++ and other layers weigh the map by gradients.`;
  }
  return `${network.camUnavailable!} So CAM does not apply; Grad-CAM, Grad-CAM++ and LayerCAM do (default layer ${network.lastConvLayer.name}).`;
}
