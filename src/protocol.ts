/**
 * The messages between the page and the explanation worker. Both sides import this file (with
 * its settings part, protocol-settings.ts) and nothing else of each other; `PROTOCOL_VERSION`
 * changes whenever a message changes shape, and a worker answers a page of another version with
 * an error instead of misreading it.
 */
import type { Method, Reduction } from './explain/methods/names.js';
import type { Region } from './explain/runtime/preprocess.js';
import type { Prediction, StageTimings } from './explain/methods/types.js';
import type { FeatureLayer } from './explain/network/network.js';
import type { WhyCamErrorCode } from './explain/errors.js';
import type { ClassReport } from './explain/models/taught-format.js';
import type { TeachReport } from './explain/teach/teach-report.js';
import type { PerturbationMethod } from './explain/perturbation/perturbation.js';
import type { Normalization } from './explain/network/normalization.js';

export const PROTOCOL_VERSION = 9;
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
import type { ExplainSettings, PerturbationSettings } from './protocol-settings.js';
export type { CompareSettings, ExplainSettings, PerturbationSettings } from './protocol-settings.js';

/** The second view of a side-by-side result: the same frame, forward pass and read-back as the first. */
interface ComparedView {
  method: Method;
  reduction: Reduction;
  layer: string;
  classIndex: number | null;
  target: Prediction;
  contrast: Prediction | null;
  heatmap: { width: number; height: number; data: Float32Array };
}

// ---- page → worker -------------------------------------------------------------------------

/**
 * A message that changes what the worker explains (the source, the model or the settings) starts a
 * new request: the page numbers it, increasing, and every result names the request it answers, so
 * that a result of an earlier source, model or setting is never taken for the new one.
 */
export interface NewRequest {
  /** The page's number for this request; absent (tests): one more than the last. */
  request?: number;
}

export interface InitMessage extends NewRequest {
  type: 'init';
  version: number;
  /** Force one backend (tests, benchmarks); otherwise the best that works here is chosen. */
  backend: BackendName | null;
  model: string;
  /** URL of the folder holding `<model id>/model.json`. */
  modelBaseUrl: string;
  settings: ExplainSettings;
}

/** The camera's frames, once: a transferred `MediaStreamTrackProcessor.readable`. */
interface StreamMessage extends NewRequest {
  type: 'stream';
  readable: ReadableStream<VideoFrame>;
  /** Identifies the camera session, echoed in results. */
  streamId: number;
}

/** A camera's `MediaStreamTrack`, as far as the worker uses it (workers' types have no MediaStreamTrack). */
export interface CameraTrack {
  readonly kind: string;
  stop(): void;
}

/**
 * The camera's track itself (a clone), transferred, where the page has no track processor but the
 * worker may (Safari 18+): the worker reads it with its own `MediaStreamTrackProcessor`, or answers
 * `track-refused` and stops it, and the page sends frames one by one instead.
 */
interface TrackMessage extends NewRequest {
  type: 'track';
  track: CameraTrack;
  streamId: number;
}

/**
 * One camera frame, where no track processor exists: grabbed from the `<video>` at a presented
 * frame as a VideoFrame or an ImageBitmap (whichever costs less here, measured), transferred.
 */
export interface FrameMessage {
  type: 'frame';
  picture: ImageBitmap | VideoFrame;
  /** When the camera captured it, in ms since the epoch (performance.timeOrigin + now). */
  captureTime: number;
  streamId: number;
  /** Chosen by the page, increasing; the worker answers every frame with a `frame-ack` naming it. */
  frameId: number;
}

/** A still picture to explain and keep explaining as settings change (still-image mode). */
interface ImageMessage extends NewRequest {
  type: 'image';
  bitmap: ImageBitmap;
  imageId: number;
}

interface SettingsMessage extends NewRequest {
  type: 'settings';
  settings: Partial<ExplainSettings>;
}

interface ModelMessage extends NewRequest {
  type: 'model';
  model: string;
}

/**
 * Failure drills (tests, and teachers checking a classroom machine): make the worker crash with an
 * uncaught error, end itself silently, or lose its GPU device, to see the app recover.
 */
export interface DrillMessage {
  type: 'drill';
  /** `fail-frame`: the next frame's explanation throws (the page must carry on). */
  failure: 'crash' | 'exit' | 'lose-device' | 'fail-frame';
}

/** Go back to explaining camera frames after a still picture (or a frozen frame). */
interface CameraMessage extends NewRequest {
  type: 'camera';
}

/** Stop reading the camera stream (the camera was stopped or replaced). */
interface StopStreamMessage extends NewRequest {
  type: 'stop-stream';
}

/**
 * Use a model from files: a Teachable Machine export (model.json + weights.bin + metadata.json, or
 * its zip), a taught model's zip, or the user's own TF.js LayersModel (model.json and its weight
 * files, a labels.txt if any, or their zip). `model` is the page's name for it, echoed in `ready`.
 */
interface OpenModelMessage extends NewRequest {
  type: 'open-model';
  model: string;
  files: File[];
  /** The user's own model: how its input is normalised; absent: assumed (and `ready.modelSummary` says so). */
  normalize?: Normalization;
}

/** What picked model files are (the worker reads them; the page never unzips): answered by `model-described`. */
export interface DescribeModelMessage {
  type: 'describe-model';
  requestId: number;
  files: File[];
}

/** One teaching example (a camera frame or a photo), transferred; the worker keeps only its pooled features. */
interface TeachExampleMessage {
  type: 'teach-example';
  exampleId: number;
  bitmap: ImageBitmap;
}

/** Forget teaching examples (removed thumbnails), or all of them (a new teaching session). */
interface TeachForgetMessage {
  type: 'teach-forget';
  exampleIds: number[] | 'all';
}

/** Fit a head on the examples, then explain the live view with the taught model (`model`). */
export interface TeachTrainMessage extends NewRequest {
  type: 'teach-train';
  model: string;
  name: string;
  classes: { name: string; exampleIds: number[] }[];
}

/**
 * Explain the still picture (an opened photo or a frozen frame) with occlusion sensitivity or LIME:
 * many forward passes, in batches; the worker reports progress and stops when cancelled.
 */
export interface PerturbMessage {
  type: 'perturb';
  jobId: number;
  method: PerturbationMethod;
  /** The class to explain; null: the top-1 prediction. */
  classIndex: number | null;
  options: PerturbationSettings;
}

/** Stop a running occlusion or LIME job (answered with its `cancelled` state). */
interface PerturbCancelMessage {
  type: 'perturb-cancel';
  jobId: number;
}

export type ToWorker =
  | PerturbMessage
  | PerturbCancelMessage
  | InitMessage
  | StreamMessage
  | TrackMessage
  | FrameMessage
  | ImageMessage
  | SettingsMessage
  | ModelMessage
  | CameraMessage
  | StopStreamMessage
  | DrillMessage
  | OpenModelMessage
  | DescribeModelMessage
  | TeachExampleMessage
  | TeachForgetMessage
  | TeachTrainMessage;

// ---- worker → page -------------------------------------------------------------------------

export interface ReadyMessage {
  type: 'ready';
  version: number;
  backend: BackendName;
  /** Why better backends were not used, one line each ("webgpu: software adapter, 40× slower than wasm"). */
  backendNotes: string[];
  model: string;
  layers: FeatureLayer[];
  lastConvLayer: string;
  camLayer: string | null;
  /** The model's class names (short form), in class-index order. */
  labels: string[];
  /** The name to show: a registered model's display name, or the name in a picked model's metadata. */
  modelName: string;
  origin: 'registered' | PickedOrigin;
  /** For picked and taught models: which methods are exact for the model's head, or why CAM does not apply. */
  methodNotes: string | null;
  /** For the user's own model: what was recognised and what was assumed, one sentence each (English); else empty. */
  modelSummary: string[];
  /** Time to load the model and compile its kernels. */
  startupMs: number;
  /** Threads the WASM backend computes with (BackendChoice.wasmThreads): 1 when single-threaded or on another backend. */
  wasmThreads: number;
  /** The blocks the sanity check can re-initialise, from the logits down (`logits`, `block 13`, …); empty where it cannot. */
  scrambleBlocks: string[];
}

interface ProgressMessage {
  type: 'progress';
  text: string;
}

/** A heatmap for one frame or picture. `heatmap` is transferred. */
export interface ResultMessage {
  type: 'result';
  source: { kind: 'camera'; streamId: number } | { kind: 'image'; imageId: number };
  /** The request (`NewRequest`) in force when this picture was taken up: the source, model and settings it answers. */
  request: number;
  /** The model that explained it (the id `ready` named). */
  model: string;
  /** Running count of results since the worker started. */
  frame: number;
  /** When the frame was captured, ms since the epoch; null for still pictures. */
  captureTime: number | null;
  /** When the result was posted, ms since the epoch. */
  postTime: number;
  method: Method;
  reduction: Reduction;
  layer: string;
  classIndex: number | null;
  predictions: Prediction[];
  target: Prediction;
  /** The class explained against ("and not B"), or null. */
  contrast: Prediction | null;
  heatmap: { width: number; height: number; data: Float32Array };
  /** Side by side: the second view (its heatmap is transferred too); null for one view. */
  compared: ComparedView | null;
  /** Blocks of the network re-initialised for this result (the `scramble` setting in force); 0: the real network. */
  scrambled: number;
  region: Region;
  sourceSize: { width: number; height: number };
  /**
   * Per stage; `preprocessMs` is frame → tensor. `waitMs`: from capture until the worker took the
   * frame. `idleMs`: how long the worker sat with nothing to do between finishing the camera frame
   * before and taking this one (null for the first of a session, and for still pictures).
   */
  timings: StageTimings & { waitMs: number; idleMs: number | null };
  /** Camera frames the worker closed unread since the previous result (it always takes the newest). */
  skipped: number;
  /** Tensors alive in the worker after this frame (flat when nothing leaks). */
  numTensors: number;
  /** VideoFrames the worker holds open right now. */
  openFrames: number;
  /** tfjs's memory in the worker: bytes in tensors, and on GPU backends bytes on the GPU; the WASM heap's size. */
  memory: { tensorBytes: number; gpuBytes: number | null; wasmHeapBytes: number | null };
}

export interface ErrorMessage {
  type: 'error';
  code: WhyCamErrorCode | 'internal' | 'version';
  message: string;
  hint: string | null;
  /** The worker cannot go on (no model, no backend); otherwise only the last request failed. */
  fatal: boolean;
}

/** Sent twice a second while the worker's event loop runs: silence means it died. */
interface AliveMessage {
  type: 'alive';
}

/** The camera stream the worker was reading ended (the track stopped or was unplugged). */
interface StreamEndedMessage {
  type: 'stream-ended';
  streamId: number;
}

/** The worker cannot read a transferred track (no `MediaStreamTrackProcessor` there): it stopped it. */
interface TrackRefusedMessage {
  type: 'track-refused';
  streamId: number;
}

/** The GPU device was lost; the worker is re-creating the backend and reloading the model. */
interface RecoveringMessage {
  type: 'recovering';
  reason: string;
}

/** Why a sent frame got no result. */
export type FrameDropReason =
  /** A newer frame arrived before this one was taken. */
  | 'superseded'
  /** The page is hidden or the view is frozen. */
  | 'paused'
  /** No model is ready (loading, switching, recovering). */
  | 'no-model'
  /** The worker is explaining a still picture, or the frame belongs to an older camera session. */
  | 'not-current';

/**
 * The answer to every `frame` message (the path without a track processor): the page sends its
 * next frame once the previous one is acknowledged, whatever happened to it.
 */
export type FrameAckMessage = { type: 'frame-ack'; frameId: number; streamId: number } & (
  | {
      outcome: 'done';
      /** The result's running number. */
      result: number;
      /** The worker's time to read the picture's pixels (part of frame → tensor): what the grab costs there. */
      readMs: number;
    }
  | { outcome: 'dropped'; reason: FrameDropReason }
  | { outcome: 'failed'; message: string }
);

/** A teaching example's features were taken (ok) or could not be. */
export interface TeachExampleDoneMessage {
  type: 'teach-example';
  exampleId: number;
  ok: boolean;
  message: string | null;
}

export interface TeachProgressMessage {
  type: 'teach-progress';
  /** `features`: the base model is loading; `training`: epoch of epochs. */
  stage: 'base' | 'training' | 'loading';
  epoch: number;
  epochs: number;
  loss: number;
}

/** Training finished: the taught model (its portable zip, transferred) and how well it did. */
export interface TaughtMessage {
  type: 'taught';
  model: string;
  name: string;
  labels: string[];
  /** Share of held-back examples classified correctly; null when too few examples to hold any back. */
  accuracy: number | null;
  classes: ClassReport[];
  trainMs: number;
  zip: Uint8Array;
  /** The held-back examples' confusion matrix and maps (their heatmaps transferred). */
  report: TeachReport;
}

/** What picked model files are: a Teachable Machine export, a taught model, or the user's own Keras model. */
export type PickedOrigin = 'teachable-machine' | 'taught' | 'keras' | 'onnx';

/** The name and kind of picked model files, or why they are not a model (naming the file). */
export type ModelDescribedMessage = { type: 'model-described'; requestId: number } & (
  | { ok: true; name: string; origin: PickedOrigin }
  | { ok: false; code: ErrorMessage['code']; message: string; hint: string | null }
);

/**
 * Opening model files, teaching, or switching to a registered model (`switch`: one this server
 * lacks, say) failed; the model in use stays (after a failed switch the worker says `ready` with it again).
 */
export interface ModelFailedMessage {
  type: 'model-failed';
  model: string;
  during: 'open' | 'teach' | 'switch';
  code: WhyCamErrorCode | 'internal';
  message: string;
  hint: string | null;
}

/** An occlusion or LIME map of a still picture, as the page overlays it. `heatmap` is transferred. */
export interface PerturbationResult {
  imageId: number;
  method: PerturbationMethod;
  predictions: Prediction[];
  target: Prediction;
  heatmap: { width: number; height: number; data: Float32Array };
  region: Region;
  sourceSize: { width: number; height: number };
  /** What it ran with: occlusion's mask size and stride (input pixels), LIME's segments and samples. */
  details: { maskSize?: number; stride?: number; features?: number; numSamples?: number };
  forwardPasses: number;
  totalMs: number;
  /** Blocks of the network re-initialised while it ran (the `scramble` setting). */
  scrambled: number;
}

/** How an occlusion or LIME job goes: progress in forward passes, then one final state. */
export type PerturbationMessage = { type: 'perturbation'; jobId: number; method: PerturbationMethod } & (
  | { state: 'progress'; done: number; total: number }
  | { state: 'done'; result: PerturbationResult }
  | { state: 'cancelled' }
  | { state: 'failed'; message: string; hint: string | null }
);

export type FromWorker =
  | PerturbationMessage
  | TeachExampleDoneMessage
  | TeachProgressMessage
  | TaughtMessage
  | ModelFailedMessage
  | ModelDescribedMessage
  | ReadyMessage
  | ProgressMessage
  | ResultMessage
  | ErrorMessage
  | AliveMessage
  | StreamEndedMessage
  | TrackRefusedMessage
  | RecoveringMessage
  | FrameAckMessage;

/** Milliseconds since the epoch on a clock shared by the page and its workers. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}
