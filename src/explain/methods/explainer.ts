import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { WhyCamError } from '../errors.js';
import { normalizeHeatmapInPlace } from './heatmap.js';
import { CapturedGraph, type FrameInput, webGpuInternals, writeInput } from '../runtime/graph-capture.js';
import {
  type ImageSource,
  isRgbaImage,
  isVideoFrameLike,
  PixelScratch,
  sourceSize,
  toInputTensor,
} from '../runtime/input.js';
import { sampleFrame, topOneHot } from '../runtime/kernels/index.js';
import type { LabelSet } from '../network/labels.js';
import { cam, gradCam, gradCamPlusPlus, layerCam } from './methods.js';
import { isMethod, type Method, METHODS, type Reduction, REDUCTIONS } from './names.js';
import { type FeatureLayer, Network } from '../network/network.js';
import { type CropPolicy, CROP_POLICIES, cropRegion, inputSampling, type Region } from '../runtime/preprocess.js';
import { argMax, softmax, topIndices } from './scores.js';

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

/** What one frame's device work gives back: the packed read-back and the stage times (total excluded). */
interface FrameResult {
  data: Float32Array;
  region: Region;
  source: { width: number; height: number };
  timings: StageTimings;
}

/** How many captured frame graphs an explainer keeps (one per plan, source size and crop; oldest dropped). */
const MAX_GRAPHS = 8;

interface ResolvedRequest {
  method: Method;
  layer: FeatureLayer;
  reduction: Reduction;
  classIndex: number | null;
  contrastClass: number | null;
}

/**
 * CAM, Grad-CAM, Grad-CAM++ and LayerCAM for a LayersModel classifier, on any tfjs backend.
 *
 * One forward pass gives the feature maps and the logits; Grad-CAM's backward pass runs only
 * through the layers after the feature layer and only with respect to activations, built from
 * forward ops. Everything read back is packed into one small buffer (top-k and the heatmaps).
 */
export class Explainer {
  readonly network: Network;
  readonly labels: LabelSet;
  readonly inputSize: readonly [number, number];
  readonly inputRange: readonly [number, number];
  private readonly scratch = new PixelScratch();
  private scratchBusy = false;
  /** One-hot targets of pinned classes, uploaded once (not per frame). */
  private readonly classTargets = new Map<number, tf.Tensor2D>();
  /**
   * On webgpu, each frame's dispatches are captured once per plan and source shape and replayed
   * for the next frames (see graph-capture.ts). On by default; off for A/B measurements.
   */
  useGraphCapture = true;
  /** Why graph capture was turned off for this explainer, if it failed (null while it works). */
  graphCaptureError: string | null = null;
  private readonly graphs = new Map<string, CapturedGraph>();

  constructor(model: LayersModel, info: ModelInfo) {
    const hints = {
      ...(info.logitLayer ? { logitLayer: info.logitLayer } : {}),
      ...(info.softmaxLayer ? { softmaxLayer: info.softmaxLayer } : {}),
    };
    this.network = new Network(model, hints);
    this.labels = info.labels;
    this.inputSize = info.inputSize;
    this.inputRange = info.inputRange;
    if (this.network.numClasses !== info.labels.size) {
      throw new WhyCamError(
        'unsupported-model',
        `The model scores ${this.network.numClasses} classes but ${info.labels.size} labels were given.`,
      );
    }
  }

  get featureLayers(): readonly FeatureLayer[] {
    return this.network.featureLayers;
  }

  get lastConvLayer(): string {
    return this.network.lastConvLayer.name;
  }

  get camLayer(): string | null {
    return this.network.camLayer;
  }

  /** Explains the image with one method. */
  async explain(image: ImageSource, request: ExplainRequest & ImageOptions): Promise<Explanation> {
    const [result] = await this.explainMany(image, [request], request);
    return result!;
  }

  /**
   * Explains the image with several methods / layers / classes from a single forward pass and a
   * single read-back; requests that share a class and reduction share one backward pass.
   */
  async explainMany(
    image: ImageSource,
    requests: readonly ExplainRequest[],
    options: ImageOptions = {},
  ): Promise<Explanation[]> {
    const resolved = requests.map((r) => this.resolve(r));
    const topK = this.checkTopK(options.topK);
    const crop = this.checkCrop(options.crop);
    const layers = [...new Set(resolved.map((r) => r.layer.name))];
    const planKey = resolved
      .map((r) => `${r.method}/${r.layer.name}/${r.reduction}/${r.classIndex}/${r.contrastClass}`)
      .join(';');
    const { data, region, source, timings } = await this.computeFrame(image, crop, planKey, (x, forwardDone) =>
      this.runPacked(x, layers, resolved, forwardDone),
    );
    const logits = data.subarray(0, this.network.numClasses);
    const probs = softmax(logits);
    const predictions = this.predictions(probs, topK);
    let offset = this.network.numClasses;
    return resolved.map((r) => {
      const classIndex = r.classIndex ?? argMax(logits);
      const scored = (i: number) => ({
        classIndex: i,
        label: this.labels.label(i),
        score: probs[i]!,
        logit: logits[i]!,
      });
      const target = scored(classIndex);
      const contrast = r.contrastClass === null ? null : scored(r.contrastClass);
      const size = r.layer.width * r.layer.height;
      const heatmap = {
        width: r.layer.width,
        height: r.layer.height,
        data: normalizeHeatmapInPlace(data.slice(offset, offset + size)),
      };
      offset += size;
      return {
        predictions,
        target,
        contrast,
        method: r.method,
        reduction: r.reduction,
        layer: r.layer.name,
        heatmap,
        region,
        source,
        timings,
      };
    });
  }

  /** Classification alone: one forward pass and the top-k. */
  async classify(image: ImageSource, options: ImageOptions = {}): Promise<Classification> {
    const topK = this.checkTopK(options.topK);
    const plan = this.network.plan([]);
    const { data, region, source, timings } = await this.computeFrame(
      image,
      this.checkCrop(options.crop),
      'classify',
      (x, forwardDone) => {
        const logits = tf.tidy(() => tf.reshape(this.network.forward(plan, x, []).get(plan.logits)!, [-1]));
        forwardDone();
        return logits;
      },
    );
    return { predictions: this.predictions(softmax(data), topK), region, source, timings };
  }

  /**
   * Runs `build` (the frame's device work, from the network input to the packed tensor to read)
   * on the image and reads the result back. On webgpu the work is captured once per plan and
   * source shape, and replayed after that (graph-capture.ts); elsewhere it runs op by op.
   */
  private async computeFrame(
    image: ImageSource,
    crop: CropPolicy,
    planKey: string,
    build: (x: tf.Tensor4D, forwardDone: () => void) => tf.Tensor,
  ): Promise<FrameResult> {
    const source = sourceSize(image);
    const region = cropRegion(source.width, source.height, this.inputSize, crop);
    const replayed = await this.replayFrame(image, source, region, planKey, build);
    if (replayed) return { ...replayed, region, source };
    const t0 = performance.now();
    const x = await this.prepare(image, region);
    const t1 = performance.now();
    let t2 = t1;
    // The input is freed however the work below ends (a bad layer, a lost device, an exception).
    let packed: tf.Tensor;
    try {
      packed = build(x, () => {
        t2 = performance.now();
      });
    } finally {
      x.dispose();
    }
    const t3 = performance.now();
    const data = await readAndDispose(packed);
    const t4 = performance.now();
    return {
      data,
      region,
      source,
      timings: {
        preprocessMs: t1 - t0,
        forwardMs: t2 - t1,
        heatmapMs: t3 - t2,
        readbackMs: t4 - t3,
        totalMs: t4 - t0,
      },
    };
  }

  /** The frame through a captured graph (captured now if new); null where capture does not apply. */
  private async replayFrame(
    image: ImageSource,
    source: { width: number; height: number },
    region: Region,
    planKey: string,
    build: (x: tf.Tensor4D, forwardDone: () => void) => tf.Tensor,
  ): Promise<Omit<FrameResult, 'region' | 'source'> | null> {
    const backend = this.useGraphCapture ? webGpuInternals() : null;
    // Not while a profiler times kernels one by one (bench's GPU time): that needs the ordinary path.
    if (!backend || backend.activeTimers != null) return null;
    if (image instanceof tf.Tensor && image.rank !== 3) return null;
    const t0 = performance.now();
    let temporary: tf.Tensor | null = null;
    let scratchTaken = false;
    try {
      let frame: FrameInput;
      if (image instanceof tf.Tensor) {
        frame = image;
      } else if (isRgbaImage(image)) {
        frame = image.data;
      } else if (isVideoFrameLike(image)) {
        // The shared scratch unless an overlapping call holds it; this call holds it until the bytes are written out.
        const length = image.displayWidth * image.displayHeight * 4;
        scratchTaken = !this.scratchBusy;
        this.scratchBusy = true;
        frame = scratchTaken ? this.scratch.rgba(length) : new Uint8Array(length);
        await image.copyTo(frame, { format: 'RGBA' });
      } else {
        temporary = tf.browser.fromPixels(image as unknown as Parameters<typeof tf.browser.fromPixels>[0], 4);
        frame = temporary;
      }
      const packed = !(frame instanceof tf.Tensor);
      const shape = frame instanceof tf.Tensor ? frame.shape : [source.height, source.width];
      const dtype = frame instanceof tf.Tensor ? frame.dtype : 'int32';
      const key = `${planKey}|${packed ? 'rgba' : 'tensor'}:${shape.join('x')}:${dtype}|${region.x},${region.y},${region.width},${region.height}`;
      let graph = this.graphs.get(key);
      if (graph) {
        if (graph.inUse) return null;
        // Most recently used last, so that the first key is the one to drop.
        this.graphs.delete(key);
        this.graphs.set(key, graph);
        graph.write(frame);
        const t1 = performance.now();
        const { data, encodeMs } = await graph.run();
        return { data, timings: timingsOf(t0, t1, t1 + encodeMs, performance.now()) };
      }
      const input = tf.zeros(shape, dtype);
      try {
        writeInput(backend, input, frame);
        const sampling = inputSampling(region, this.inputSize, this.inputRange);
        graph = CapturedGraph.capture(backend, input, (own) =>
          tf.tidy(() => build(sampleFrame(own, sampling, packed), () => {})),
        );
      } catch (e) {
        input.dispose();
        this.useGraphCapture = false;
        this.graphCaptureError = (e as Error).message;
        return null;
      }
      this.graphs.set(key, graph);
      if (this.graphs.size > MAX_GRAPHS) {
        const [oldest, dropped] = this.graphs.entries().next().value!;
        dropped.dispose();
        this.graphs.delete(oldest);
      }
      const t1 = performance.now();
      const data = await graph.read();
      return { data, timings: timingsOf(t0, t1, t1, performance.now()) };
    } finally {
      temporary?.dispose();
      if (scratchTaken) this.scratchBusy = false;
    }
  }

  /** Runs every kernel once (shader compilation on GPU backends) so the first real frame is not slow. */
  async warmUp(requests: readonly ExplainRequest[] = [{ method: 'gradcam' }]): Promise<void> {
    const [h, w] = this.inputSize;
    const blank = tf.zeros([h, w, 3], 'int32') as tf.Tensor3D;
    try {
      await this.explainMany(blank, requests, { crop: 'full' });
    } finally {
      blank.dispose();
    }
  }

  /** Frees the captured frame graphs (they are made again when needed). */
  releaseGraphs(): void {
    for (const graph of this.graphs.values()) graph.dispose();
    this.graphs.clear();
  }

  dispose(): void {
    this.releaseGraphs();
    for (const t of this.classTargets.values()) t.dispose();
    this.classTargets.clear();
    this.network.dispose();
  }

  /** Checks a request up front, so that a bad option fails before any work is done. */
  resolve(request: ExplainRequest): ResolvedRequest {
    const method = request.method;
    if (!isMethod(method)) {
      throw new WhyCamError(
        'bad-option',
        `Unknown method "${String(method)}".`,
        `Valid methods: ${METHODS.join(', ')}.`,
      );
    }
    const reduction = request.reduction ?? 'logit';
    if (!REDUCTIONS.includes(reduction)) {
      throw new WhyCamError(
        'bad-option',
        `Unknown reduction "${String(reduction)}".`,
        `Valid reductions: ${REDUCTIONS.join(', ')}.`,
      );
    }
    let layer = this.network.layer(request.layer);
    if (method === 'cam') {
      const camLayer = this.network.camLayer;
      if (!camLayer) {
        throw new WhyCamError(
          'method-unavailable',
          this.network.camUnavailable!,
          'Use gradcam, gradcam++ or layercam instead.',
        );
      }
      if (request.layer === undefined || request.layer === 'auto') layer = this.network.layer(camLayer);
      else if (layer.name !== camLayer) {
        throw new WhyCamError(
          'method-unavailable',
          `CAM is defined only at "${camLayer}", the layer global average pooling reads; "${layer.name}" was asked for.`,
          `Use --layer auto (or ${camLayer}) with CAM, or gradcam / gradcam++ / layercam at ${layer.name}.`,
        );
      }
    }
    const classIndex = request.classIndex ?? null;
    const contrastClass = request.contrastClass ?? null;
    for (const index of [classIndex, contrastClass]) {
      if (index !== null && !(Number.isInteger(index) && index >= 0 && index < this.network.numClasses)) {
        throw new WhyCamError(
          'unknown-class',
          `Class index ${index} is out of range.`,
          `Valid class indices are 0 to ${this.network.numClasses - 1}.`,
        );
      }
    }
    return { method, layer, reduction, classIndex, contrastClass };
  }

  /**
   * One forward pass and the backward passes the requests need, packed into one tensor to read
   * back: the logits (softmax, top-k and the targets' scores are taken from them on the CPU), then
   * each request's raw map (normalised on the CPU). Nothing on the device that the CPU does faster.
   */
  private runPacked(
    x: tf.Tensor4D,
    layers: string[],
    resolved: readonly ResolvedRequest[],
    forwardDone: () => void,
  ): tf.Tensor {
    const plan = this.network.plan(layers);
    return tf.tidy(() => {
      const values = this.network.forward(plan, x, layers);
      const logits = tf.reshape(values.get(plan.logits)!, [1, this.network.numClasses]) as tf.Tensor2D;
      forwardDone();
      const parts: tf.Tensor[] = [tf.reshape(logits, [-1])];
      let probs: tf.Tensor2D | undefined;
      const targets = new Map<string, tf.Tensor2D>();
      const gradients = new Map<string, Map<string, tf.Tensor>>();
      for (const r of resolved) {
        const targetKey = `${r.classIndex}:${r.contrastClass}`;
        let oneHot = targets.get(targetKey);
        if (!oneHot) {
          oneHot = r.classIndex === null ? topOneHot(logits) : this.classTarget(r.classIndex);
          // The contrastive seed: one-hot(A) − one-hot(B), so the backward pass differentiates logit_A − logit_B.
          if (r.contrastClass !== null) oneHot = tf.sub(oneHot, this.classTarget(r.contrastClass)) as tf.Tensor2D;
          targets.set(targetKey, oneHot);
        }
        const activations = values.get(r.layer.name) as tf.Tensor4D;
        let map: tf.Tensor2D;
        if (r.method === 'cam') {
          const classWeights = this.network
            .backward(plan, values, oneHot, [this.network.camPool!])
            .get(this.network.camPool!)!;
          map = cam(activations, classWeights);
        } else {
          const gradKey = `${targetKey}:${r.reduction}`;
          let grads = gradients.get(gradKey);
          if (!grads) {
            probs ??= r.reduction === 'softmax' ? tf.softmax(logits) : undefined;
            // d softmax_c / d z = p_c (e_c − p); for a contrast (seed e_A − e_B) the difference of two such terms, d(p_A − p_B)/dz.
            const dSoftmax = (seed: tf.Tensor2D): tf.Tensor =>
              tf.mul(tf.sum(tf.mul(probs!, seed)), tf.sub(seed, probs!));
            const dLogits =
              r.reduction === 'logit'
                ? oneHot
                : r.contrastClass === null
                  ? dSoftmax(oneHot)
                  : tf.sub(
                      dSoftmax(r.classIndex === null ? topOneHot(logits) : this.classTarget(r.classIndex)),
                      dSoftmax(this.classTarget(r.contrastClass)),
                    );
            const wanted = resolved
              .filter((q) => q.method !== 'cam' && `${q.classIndex}:${q.contrastClass}:${q.reduction}` === gradKey)
              .map((q) => q.layer.name);
            grads = this.network.backward(plan, values, dLogits, wanted);
            gradients.set(gradKey, grads);
          }
          const g = grads.get(r.layer.name) as tf.Tensor4D;
          map =
            r.method === 'gradcam'
              ? gradCam(activations, g)
              : r.method === 'gradcam++'
                ? gradCamPlusPlus(activations, g)
                : layerCam(activations, g);
        }
        parts.push(tf.reshape(map, [-1]));
      }
      return tf.concat(parts);
    });
  }

  /** The one-hot target of a pinned class, made once and kept (a constant, not a per-frame upload). */
  private classTarget(classIndex: number): tf.Tensor2D {
    let target = this.classTargets.get(classIndex);
    if (!target) {
      const values = new Float32Array(this.network.numClasses);
      values[classIndex] = 1;
      target = tf.keep(tf.tensor2d(values, [1, values.length]));
      this.classTargets.set(classIndex, target);
    }
    return target;
  }

  private async prepare(image: ImageSource, region: Region): Promise<tf.Tensor4D> {
    // Calls may overlap (the conversion awaits): only one at a time uses the shared buffers.
    const shared = !this.scratchBusy;
    this.scratchBusy = true;
    try {
      return await toInputTensor(
        image,
        region,
        this.inputSize,
        this.inputRange,
        shared ? this.scratch : new PixelScratch(),
      );
    } finally {
      if (shared) this.scratchBusy = false;
    }
  }

  private predictions(probs: Float64Array, topK: number): Prediction[] {
    return topIndices(probs, topK).map((classIndex) => ({
      classIndex,
      label: this.labels.label(classIndex),
      score: probs[classIndex]!,
    }));
  }

  private checkTopK(topK = Math.min(5, this.network.numClasses)): number {
    if (!Number.isInteger(topK) || topK < 1 || topK > this.network.numClasses) {
      throw new WhyCamError(
        'bad-option',
        `topK must be a whole number from 1 to ${this.network.numClasses}; got ${topK}.`,
      );
    }
    return topK;
  }

  private checkCrop(crop: CropPolicy = 'center'): CropPolicy {
    if (!CROP_POLICIES.includes(crop)) {
      throw new WhyCamError(
        'bad-option',
        `Unknown crop policy "${String(crop)}".`,
        `Valid: ${CROP_POLICIES.join(', ')}.`,
      );
    }
    return crop;
  }
}

/** Stage times of a replayed frame: the input written (t0→t1), the dispatches encoded (t1→t2), the wait for the read-back (t2→t3). */
function timingsOf(t0: number, t1: number, t2: number, t3: number): StageTimings {
  return { preprocessMs: t1 - t0, forwardMs: t2 - t1, heatmapMs: 0, readbackMs: t3 - t2, totalMs: t3 - t0 };
}

/** Reads a tensor back and frees it, also when the read fails (a lost GPU device). */
async function readAndDispose(packed: tf.Tensor): Promise<Float32Array> {
  try {
    return (await packed.data()) as Float32Array;
  } finally {
    packed.dispose();
  }
}
