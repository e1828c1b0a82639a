/**
 * The engine's public data types: what is asked (a request) and what comes back (predictions,
 * heatmaps, timings). Types only, so any module (the heatmap helpers, the worker, the page) can use
 * them without importing the explainer.
 */
import type { LabelSet } from '../network/labels.js';
import type { FeatureLayer } from '../network/network.js';
import type { CropPolicy, Region } from '../runtime/preprocess.js';
import type { Method, Reduction } from './names.js';

export interface Prediction {
  classIndex: number;
  label: string;
  score: number;
}

/** A heatmap on its own grid: `data[row * width + col]`, values in [0, 1]. */
export interface Heatmap {
  width: number;
  height: number;
  data: Float32Array;
}

/** Milliseconds spent in each stage. On GPU backends work runs asynchronously and lands in `readbackMs`. */
export interface StageTimings {
  preprocessMs: number;
  forwardMs: number;
  heatmapMs: number;
  readbackMs: number;
  totalMs: number;
}

export interface ExplainRequest {
  method: Method;
  /** Feature layer name, or `auto` / undefined for the model's default (the last conv map). */
  layer?: string;
  /** Default `logit`. */
  reduction?: Reduction;
  /** The class to explain; undefined or null explains the top-1 prediction. */
  classIndex?: number | null;
  /**
   * "Why A and not B": explain the difference between the target class and this one. With the
   * logit reduction the map explains logit_A − logit_B (the gradient seed is one-hot(A) − one-hot(B));
   * with softmax, p_A − p_B. CAM, being linear in the classifier weights, gives the map of w_A − w_B.
   */
  contrastClass?: number | null;
}

export interface ImageOptions {
  /** How many predictions to report (default 5). */
  topK?: number;
  /** Which part of the image the network sees (default `center`). */
  crop?: CropPolicy;
}

export interface Explanation {
  predictions: Prediction[];
  /** The explained class, with its probability and logit. */
  target: Prediction & { logit: number };
  /** The class explained against ("and not B"), when the request named one. */
  contrast?: (Prediction & { logit: number }) | null;
  method: Method;
  reduction: Reduction;
  layer: string;
  heatmap: Heatmap;
  /** The part of the source image the heatmap grid covers, in source pixels. */
  region: Region;
  source: { width: number; height: number };
  timings: StageTimings;
}

export interface Classification {
  predictions: Prediction[];
  region: Region;
  source: { width: number; height: number };
  timings: StageTimings;
}

/** What the explainer needs to know about a model beyond its graph. */
export interface ModelInfo {
  labels: LabelSet;
  inputSize: readonly [number, number];
  inputRange: readonly [number, number];
  logitLayer?: string;
  softmaxLayer?: string;
}

/** A request checked against the model: the layer found, the defaults filled in. */
export interface ResolvedRequest {
  method: Method;
  layer: FeatureLayer;
  reduction: Reduction;
  classIndex: number | null;
  contrastClass: number | null;
}
