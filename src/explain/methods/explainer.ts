import * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../errors.js';
import type { ModelGraph } from '../network/graph.js';
import type { LabelSet } from '../network/labels.js';
import { type FeatureLayer, Network } from '../network/network.js';
import { type ImageSource, PixelScratch, sourceSize, toInputTensor } from '../runtime/input.js';
import { type CropPolicy, cropRegion, type Region } from '../runtime/preprocess.js';
import { CapturedFrames, type FrameWork } from './captured-frames.js';
import { normalizeHeatmapInPlace } from './heatmap.js';
import { ClassTargets, packedPass } from './packed-pass.js';
import { checkCrop, checkTopK, resolveRequest } from './request.js';
import { argMax, softmax, topIndices } from './scores.js';
import type {
  Classification,
  ExplainRequest,
  Explanation,
  ImageOptions,
  ModelInfo,
  Prediction,
  ResolvedRequest,
  StageTimings,
} from './types.js';

/** What one frame's device work gives back: the packed read-back and the stage times (total excluded). */
interface FrameResult {
  data: Float32Array;
  region: Region;
  source: { width: number; height: number };
  timings: StageTimings;
}

/**
 * CAM, Grad-CAM, Grad-CAM++, LayerCAM and HiResCAM for any classifier the engine's graph holds,
 * on any tfjs backend.
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
  private readonly classTargets: ClassTargets;
  /** On webgpu, each frame's dispatches are captured once per plan and source shape and replayed (captured-frames.ts). */
  private readonly captured: CapturedFrames;

  /** Takes ownership of `graph`: disposing the explainer disposes it (and so does a failure here). */
  constructor(graph: ModelGraph, info: ModelInfo) {
    const hints = {
      ...(info.logitLayer ? { logitLayer: info.logitLayer } : {}),
      ...(info.softmaxLayer ? { softmaxLayer: info.softmaxLayer } : {}),
    };
    try {
      this.network = new Network(graph, hints);
    } catch (e) {
      graph.dispose();
      throw e;
    }
    this.labels = info.labels;
    this.inputSize = info.inputSize;
    this.inputRange = info.inputRange;
    if (this.network.numClasses !== info.labels.size) {
      graph.dispose();
      throw new WhyCamError(
        'unsupported-model',
        `The model scores ${this.network.numClasses} classes but ${info.labels.size} labels were given.`,
      );
    }
    this.classTargets = new ClassTargets(this.network.numClasses);
    this.captured = new CapturedFrames(this, { borrow: () => this.borrowScratch() });
  }

  /** Graph capture on webgpu: on by default; off for A/B measurements. */
  get useGraphCapture(): boolean {
    return this.captured.enabled;
  }

  set useGraphCapture(on: boolean) {
    this.captured.enabled = on;
  }

  /** Why graph capture was turned off for this explainer, if it failed (null while it works). */
  get graphCaptureError(): string | null {
    return this.captured.error;
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
    const topK = checkTopK(this.network.numClasses, options.topK);
    const crop = checkCrop(options.crop);
    const planKey = resolved
      .map((r) => `${r.method}/${r.layer.name}/${r.reduction}/${r.classIndex}/${r.contrastClass}`)
      .join(';');
    const { data, region, source, timings } = await this.computeFrame(image, crop, planKey, (x, forwardDone) =>
      packedPass(this.network, x, resolved, this.classTargets, forwardDone),
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
    const topK = checkTopK(this.network.numClasses, options.topK);
    const plan = this.network.plan([]);
    const { data, region, source, timings } = await this.computeFrame(
      image,
      checkCrop(options.crop),
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
    build: FrameWork,
  ): Promise<FrameResult> {
    const source = sourceSize(image);
    const region = cropRegion(source.width, source.height, this.inputSize, crop);
    const replayed = await this.captured.run(image, source, region, planKey, build);
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
    this.captured.release();
  }

  dispose(): void {
    this.releaseGraphs();
    this.classTargets.dispose();
    this.network.dispose();
  }

  /** Checks a request up front, so that a bad option fails before any work is done. */
  resolve(request: ExplainRequest): ResolvedRequest {
    return resolveRequest(this.network, request);
  }

  private async prepare(image: ImageSource, region: Region): Promise<tf.Tensor4D> {
    const lent = this.borrowScratch();
    try {
      return await toInputTensor(image, region, this.inputSize, this.inputRange, lent.scratch ?? new PixelScratch());
    } finally {
      lent.release();
    }
  }

  /** Calls may overlap (the conversion awaits): only one at a time uses the shared pixel buffers. */
  private borrowScratch(): { scratch: PixelScratch | null; release: () => void } {
    if (this.scratchBusy) return { scratch: null, release: () => {} };
    this.scratchBusy = true;
    return {
      scratch: this.scratch,
      release: () => {
        this.scratchBusy = false;
      },
    };
  }

  private predictions(probs: Float64Array, topK: number): Prediction[] {
    return topIndices(probs, topK).map((classIndex) => ({
      classIndex,
      label: this.labels.label(classIndex),
      score: probs[classIndex]!,
    }));
  }
}

/** Reads a tensor back and frees it, also when the read fails (a lost GPU device). */
async function readAndDispose(packed: tf.Tensor): Promise<Float32Array> {
  try {
    return (await packed.data()) as Float32Array;
  } finally {
    packed.dispose();
  }
}
