import type { ModelEntry } from '../../../models/registry.js';
import { Explainer } from '../methods/explainer.js';
import { IMAGENET_LABELS } from '../network/labels.js';
import { inputRangeOf, normalizedGraph } from '../network/normalization.js';
import { importCaffe } from './importers/caffe.js';
import { importKeras } from './importers/keras.js';
import { importOnnx } from './importers/onnx.js';
import type { VerifiedModelFiles } from './model-files.js';
import { loadFlattened } from './teachable-machine.js';

/** An explainer for a registered model from its (already verified) files, wherever they were read. */
export async function explainerForEntry(entry: ModelEntry, files: VerifiedModelFiles): Promise<Explainer> {
  const location = entry.displayName;
  const graph =
    files.format === 'caffe'
      ? await importCaffe(files.prototxt, files.read, { location, inputSize: entry.inputSize })
      : files.format === 'onnx'
        ? importOnnx(files.bytes, { location, inputSize: entry.inputSize }).graph
        : importKeras(await loadFlattened(files.artifacts, location));
  return new Explainer(normalizedGraph(graph, entry.normalize), {
    labels: IMAGENET_LABELS,
    inputSize: entry.inputSize,
    inputRange: inputRangeOf(entry.normalize),
    logitLayer: entry.logitLayer,
    ...(entry.softmaxLayer ? { softmaxLayer: entry.softmaxLayer } : {}),
  });
}
