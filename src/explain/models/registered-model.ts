import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelEntry } from '../../../models/registry.js';
import { Explainer } from '../methods/explainer.js';
import { IMAGENET_LABELS } from '../network/labels.js';

/** An explainer for a registered model from its (already verified) files, wherever they were read. */
export async function explainerForEntry(entry: ModelEntry, artifacts: tf.io.ModelArtifacts): Promise<Explainer> {
  const model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  return new Explainer(model, {
    labels: IMAGENET_LABELS,
    inputSize: entry.inputSize,
    inputRange: entry.inputRange,
    logitLayer: entry.logitLayer,
    softmaxLayer: entry.softmaxLayer,
  });
}
