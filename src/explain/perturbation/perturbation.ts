import * as tf from '@tensorflow/tfjs-core';
import { batchProbabilities } from '../network/batch.js';
import { WhyCamError } from '../errors.js';
import type { Explainer } from '../methods/explainer.js';
import type { Heatmap, Prediction } from '../methods/types.js';
import { type ImageSource, sourceSize, toRgbTensor } from '../runtime/input.js';
import { lime, type LimeOptions, type LimeResult } from './lime.js';
import { occlusionSensitivity, type OcclusionOptions, type OcclusionResult } from './occlusion.js';
import { type CropPolicy, cropRegion, preprocess, type Region } from '../runtime/preprocess.js';
import type { ProgressOptions } from '../progress.js';
import { checkClassIndex, checkCrop, checkTopK } from '../methods/request.js';
import { isPerturbationMethod, PERTURBATION_METHODS, type PerturbationMethod } from './names.js';

// The names live in names.ts, without tfjs (the page imports them there).
export {
  isPerturbationMethod,
  PERTURBATION_METHOD_NAMES,
  PERTURBATION_METHODS,
  type PerturbationMethod,
} from './names.js';

export interface PerturbationRequest extends ProgressOptions {
  method: PerturbationMethod;
  /** The class to explain; undefined or null explains the top-1 prediction. */
  classIndex?: number | null;
  crop?: CropPolicy;
  topK?: number;
  occlusion?: Omit<OcclusionOptions, keyof ProgressOptions>;
  lime?: Omit<LimeOptions, keyof ProgressOptions>;
}

export interface PerturbationExplanation {
  predictions: Prediction[];
  target: Prediction;
  method: PerturbationMethod;
  heatmap: Heatmap;
  region: Region;
  source: { width: number; height: number };
  /** What the method ran with (mask size, stride, segments …) and its raw scores. */
  details: Omit<OcclusionResult, 'heatmap'> | Omit<LimeResult, 'heatmap'>;
  timings: { totalMs: number };
}

/** The image as the network sees it ([1, H, W, C], network units), and where it came from. The caller disposes `x`. */
export async function networkInput(
  explainer: Explainer,
  image: ImageSource,
  crop: CropPolicy = 'center',
): Promise<{ x: tf.Tensor4D; region: Region; source: { width: number; height: number } }> {
  checkCrop(crop);
  const source = sourceSize(image);
  const region = cropRegion(source.width, source.height, explainer.inputSize, crop);
  const rgb = await toRgbTensor(image, region);
  try {
    return { x: preprocess(rgb, explainer.inputSize, explainer.inputRange), region, source };
  } finally {
    rgb.dispose();
  }
}

/**
 * Explains one picture with occlusion sensitivity or LIME, in batches, reporting progress (in
 * forward passes) and stopping between batches when `signal` is aborted.
 */
export async function explainByPerturbation(
  explainer: Explainer,
  image: ImageSource,
  request: PerturbationRequest,
): Promise<PerturbationExplanation> {
  if (!isPerturbationMethod(request.method)) {
    throw new WhyCamError(
      'bad-option',
      `Unknown method "${String(request.method)}".`,
      `Valid: ${PERTURBATION_METHODS.join(', ')}.`,
    );
  }
  const numClasses = explainer.network.numClasses;
  const topK = checkTopK(numClasses, request.topK);
  const classIndex = checkClassIndex(request.classIndex ?? null, numClasses);
  const t0 = performance.now();
  const { x, region, source } = await networkInput(explainer, image, request.crop);
  try {
    const top = tf.tidy(() => {
      const { values, indices } = tf.topk(batchProbabilities(explainer.network, x), topK);
      return tf.concat([tf.reshape(values, [-1]), tf.reshape(tf.cast(indices, 'float32'), [-1])]);
    });
    const packed = await top.data();
    top.dispose();
    const predictions = Array.from({ length: topK }, (_, i) => ({
      classIndex: packed[topK + i]!,
      label: explainer.labels.label(packed[topK + i]!),
      score: packed[i]!,
    }));
    const target = classIndex ?? predictions[0]!.classIndex;
    const progress = {
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    };
    const result =
      request.method === 'occlusion'
        ? await occlusionSensitivity(explainer.network, x, target, { ...request.occlusion, ...progress })
        : await lime(explainer.network, x, target, { ...request.lime, ...progress });
    const { heatmap, ...details } = result;
    return {
      predictions,
      target: { classIndex: target, label: explainer.labels.label(target), score: result.probability },
      method: request.method,
      heatmap,
      region,
      source,
      details,
      timings: { totalMs: performance.now() - t0 },
    };
  } finally {
    x.dispose();
  }
}
