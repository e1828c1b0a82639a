/**
 * A user's own TF.js LayersModel (exported from Keras with `tensorflowjs_converter`): not a
 * Teachable Machine export, so its labels and its input normalisation are not known from the
 * format. Labels come from the caller, `metadata.json`, `labels.txt`, or are class numbers; the
 * normalisation from the caller or is assumed — and the summary says which.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../errors.js';
import { Explainer } from '../methods/explainer.js';
import { LabelSet } from '../network/labels.js';
import { inputRangeOf, type Normalization, NORMALIZATION_TEXT, normalizedGraph } from '../network/normalization.js';
import { importKeras } from './importers/keras.js';
import type { ModelFileReader } from './model-files.js';
import { loadFlattened } from './teachable-machine.js';

export interface OwnModelOptions {
  location: string;
  /** One label per class, in output order (the CLI's `--labels FILE`). */
  labels?: readonly string[];
  normalize?: Normalization;
}

export interface OwnModel {
  explainer: Explainer;
  labels: readonly string[];
  /** What was recognised and what was assumed, one sentence each, for the user. */
  summary: string[];
}

/** Assumed when nobody says: what Keras MobileNet-style exports expect. */
const ASSUMED: Normalization = 'minus-one-to-one';

/** Lines of a labels.txt: one label a line; blank lines at the end ignored. */
export function parseLabelLines(text: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines.map((l) => l.trim());
}

function metadataLabels(raw: Record<string, unknown> | null): string[] | null {
  const labels = raw?.['labels'];
  return Array.isArray(labels) && labels.length > 0 && labels.every((l) => typeof l === 'string')
    ? (labels as string[])
    : null;
}

export async function openOwnModel(
  read: ModelFileReader,
  artifacts: tf.io.ModelArtifacts,
  metadata: Record<string, unknown> | null,
  options: OwnModelOptions,
): Promise<OwnModel> {
  const { location } = options;
  const model = await loadFlattened(artifacts, location);
  const [, h, w, c] = model.inputs[0]!.shape;
  const outShape = model.outputs[0]!.shape;
  const classes = outShape[outShape.length - 1];
  if (c !== 3 || typeof classes !== 'number') {
    model.dispose();
    throw new WhyCamError(
      'unsupported-model',
      `${location} takes input [${model.inputs[0]!.shape.join(', ')}] and gives [${outShape.join(', ')}].`,
      'WhyCam explains image classifiers: one RGB picture [height, width, 3] in, one score per class out.',
    );
  }
  const summary: string[] = [];
  let labels: readonly string[];
  const labelsTxt = await read('labels.txt');
  if (options.labels) {
    labels = options.labels;
  } else if (metadataLabels(metadata)) {
    labels = metadataLabels(metadata)!;
    summary.push(`Labels: the ${labels.length} in metadata.json.`);
  } else if (labelsTxt) {
    labels = parseLabelLines(new TextDecoder().decode(labelsTxt));
    summary.push(`Labels: the ${labels.length} lines of labels.txt.`);
  } else {
    labels = Array.from({ length: classes }, (_, i) => `class ${i}`);
    summary.push(
      `Assumed: no labels (no metadata.json, labels.txt or --labels), so classes are numbered 0–${classes - 1}.`,
    );
  }
  if (labels.length !== classes) {
    model.dispose();
    throw new WhyCamError(
      'unsupported-model',
      `${location} scores ${classes} classes but ${labels.length} labels were given.`,
      'Give one label a line, in the order of the model’s outputs.',
    );
  }
  const inputSize: [number, number] = [h ?? 224, w ?? 224];
  const normalize = options.normalize ?? ASSUMED;
  const explainer = new Explainer(normalizedGraph(importKeras(model), normalize), {
    labels: new LabelSet(labels),
    inputSize,
    inputRange: inputRangeOf(normalize),
  });
  const network = explainer.network;
  summary.unshift(
    `Recognised: a Keras model of ${network.graph.nodes.length} layers, input ${inputSize[0]}×${inputSize[1]}${h ? '' : ' (assumed: the model leaves it open)'}, ${classes} classes; the feature layer chosen is ${network.lastConvLayer.name} (${network.lastConvLayer.height}×${network.lastConvLayer.width}); ${network.camLayer ? `CAM applies at ${network.camLayer}` : `CAM does not apply: ${network.camUnavailable}`}.`,
  );
  summary.push(
    options.normalize
      ? `Input: ${NORMALIZATION_TEXT[normalize]}.`
      : `Assumed: the input is ${NORMALIZATION_TEXT[normalize]}; if the model was trained otherwise, say so (--normalize imagenet|zero-to-one|caffe, or openModel(files, {normalize})).`,
  );
  return { explainer, labels, summary };
}
