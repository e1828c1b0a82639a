/**
 * What the page asks the worker to compute (part of the protocol, see protocol.ts): the live
 * explanation's settings, the second view's changes, and the occlusion / LIME options.
 */
import type { Method, Reduction } from './explain/methods/names.js';
import type { CropPolicy } from './explain/runtime/preprocess.js';
import type { Segmentation } from './explain/perturbation/lime.js';

/** What the worker computes; everything else (colours, opacity, smoothing) is the page's business. */
export interface ExplainSettings {
  method: Method;
  /** A feature layer name, or `auto` for the model's default. */
  layer: string;
  reduction: Reduction;
  /** The class to explain; null follows the top-1 prediction. */
  classIndex: number | null;
  crop: CropPolicy;
  /** "Why A and not B": the class the map is explained against, or null. */
  contrastClass: number | null;
  /** Side by side: a second view of the same frame, with these settings changed from the first; null for one view. */
  compare: CompareSettings | null;
  /** While paused the worker closes incoming frames unread (hidden page, frozen view). */
  paused: boolean;
  /**
   * The sanity check, live: how many blocks of the network, from the logits down, are re-initialised
   * with random weights (0: the real network). The stored model is never changed: a scrambled copy
   * explains the frames, and 0 goes back to the real weights exactly.
   */
  scramble: number;
}

/**
 * Occlusion sensitivity and LIME options, as the CLI names them (`--mask-size`, `--stride`,
 * `--mask-value`, `--num-features`, `--num-samples`, `--segmentation`); null: the CLI's default.
 */
export interface PerturbationSettings {
  /** Side of the occluding patch in input pixels; null: 20% of the input (45 at 224). */
  maskSize: number | null;
  /** Distance between patch centres in input pixels; null: 10% of the input (22 at 224). */
  stride: number | null;
  /** What the patch shows: a grey level 0-255, or null for the picture's mean colour. */
  maskValue: number | null;
  /** LIME: segments to cut the picture into; null: 49. */
  numFeatures: number | null;
  /** LIME: perturbed pictures to fit on; null: 2048. */
  numSamples: number | null;
  /** LIME: how the picture is cut; null: superpixels. */
  segmentation: Segmentation | null;
}

/** What the second view changes from the first (method vs method, layer vs layer, class vs class). */
export interface CompareSettings {
  method?: Method;
  layer?: string;
  classIndex?: number | null;
}
