/**
 * A user's own ONNX model (`torch.onnx.export`, or ONNX Runtime's quantizer): one `.onnx` file,
 * with its labels from the caller or a labels.txt beside it. A 1000-class model without labels
 * gets ImageNet's; the normalisation is the caller's or assumed to be torchvision's — and the
 * summary says what was assumed.
 */
import { WhyCamError } from '../errors.js';
import { Explainer } from '../methods/explainer.js';
import { IMAGENET_LABELS, LabelSet } from '../network/labels.js';
import { inputRangeOf, type Normalization, NORMALIZATION_TEXT, normalizedGraph } from '../network/normalization.js';
import { importOnnx } from './importers/onnx.js';
import { type OwnModel, parseLabelLines } from './own-model.js';

export interface OnnxModelOptions {
  /** The file as a person would name it. */
  location: string;
  /** One label per class, in output order (the CLI's `--labels FILE`). */
  labels?: readonly string[];
  /** The text of a labels.txt found beside the model, if any. */
  labelsText?: string | null;
  normalize?: Normalization;
}

/** What PyTorch's torchvision models (most ONNX exports) expect. */
const ASSUMED: Normalization = 'imagenet';

export function isOnnxFileName(name: string): boolean {
  return /\.onnx$/i.test(name);
}

export function openOnnxModel(bytes: Uint8Array, options: OnnxModelOptions): OwnModel {
  const { location } = options;
  const imported = importOnnx(bytes, { location });
  const { classes } = imported;
  const summary: string[] = [];
  let labels: LabelSet;
  if (options.labels) {
    labels = new LabelSet(options.labels);
  } else if (options.labelsText) {
    labels = new LabelSet(parseLabelLines(options.labelsText));
    summary.push(`Labels: the ${labels.long.length} lines of labels.txt.`);
  } else if (classes === IMAGENET_LABELS.long.length) {
    labels = IMAGENET_LABELS;
    summary.push(
      `Labels: ImageNet's ${classes} classes (the model scores ${classes} classes and no labels were given).`,
    );
  } else {
    labels = new LabelSet(Array.from({ length: classes }, (_, i) => `class ${i}`));
    summary.push(`Assumed: no labels (no labels.txt or --labels), so classes are numbered 0–${classes - 1}.`);
  }
  if (labels.long.length !== classes) {
    imported.graph.dispose();
    throw new WhyCamError(
      'unsupported-model',
      `${location} scores ${classes} classes but ${labels.long.length} labels were given.`,
      'Give one label a line, in the order of the model’s outputs.',
    );
  }
  const normalize = options.normalize ?? ASSUMED;
  const [h, w] = imported.inputSize;
  // The explainer owns the graph from here, also when it refuses it.
  const explainer = new Explainer(normalizedGraph(imported.graph, normalize), {
    labels,
    inputSize: imported.inputSize,
    inputRange: inputRangeOf(normalize),
  });
  const network = explainer.network;
  const by = imported.producer ? ` (written by ${imported.producer})` : '';
  summary.unshift(
    `Recognised: an ONNX model${by} of ${network.graph.nodes.length} operations after import, input ${h}×${w}, ${classes} classes; the feature layer chosen is ${network.lastConvLayer.name} (${network.lastConvLayer.height}×${network.lastConvLayer.width}); ${network.camLayer ? `CAM applies at ${network.camLayer}` : `CAM does not apply: ${network.camUnavailable}`}.`,
  );
  for (const f of imported.fixed) summary.push(`Fixed: ${f}.`);
  summary.push(
    options.normalize
      ? `Input: ${NORMALIZATION_TEXT[normalize]}.`
      : `Assumed: the input is ${NORMALIZATION_TEXT[normalize]}; if the model was trained otherwise, say so (--normalize minus-one-to-one|zero-to-one|caffe, or openModel(files, {normalize})).`,
  );
  return { explainer, labels: labels.long, summary };
}
