/**
 * The messages between the page and the explanation worker. Both sides import this file and
 * nothing else of each other; `PROTOCOL_VERSION` changes whenever a message changes shape, and a
 * worker answers a page of another version with an error instead of misreading it.
 */
import type { Method, Reduction } from './explain/methods.js';
import type { CropPolicy, Region } from './explain/preprocess.js';
import type { Prediction, StageTimings } from './explain/explainer.js';
import type { FeatureLayer } from './explain/network.js';
import type { WhyCamErrorCode } from './explain/errors.js';

export const PROTOCOL_VERSION = 1;

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** What the worker computes; everything else (colours, opacity, smoothing) is the page's business. */
export interface ExplainSettings {
  method: Method;
  /** A feature layer name, or `auto` for the model's default. */
  layer: string;
  reduction: Reduction;
  /** The class to explain; null follows the top-1 prediction. */
  classIndex: number | null;
  crop: CropPolicy;
  /** While paused the worker closes incoming frames unread (hidden page, frozen view). */
  paused: boolean;
}

// ---- page → worker -------------------------------------------------------------------------

export interface InitMessage {
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
export interface StreamMessage {
  type: 'stream';
  readable: ReadableStream<VideoFrame>;
  /** Identifies the camera session, echoed in results. */
  streamId: number;
}

/** One camera frame, where no track processor exists (rVFC + createImageBitmap), transferred. */
export interface FrameMessage {
  type: 'frame';
  bitmap: ImageBitmap;
  /** When the camera captured it, in ms since the epoch (performance.timeOrigin + now). */
  captureTime: number;
  streamId: number;
}

/** A still picture to explain and keep explaining as settings change (still-image mode). */
export interface ImageMessage {
  type: 'image';
  bitmap: ImageBitmap;
  imageId: number;
}

export interface SettingsMessage {
  type: 'settings';
  settings: Partial<ExplainSettings>;
}

export interface ModelMessage {
  type: 'model';
  model: string;
}

/**
 * Failure drills (tests, and teachers checking a classroom machine): make the worker crash with an
 * uncaught error, end itself silently, or lose its GPU device, to see the app recover.
 */
export interface DrillMessage {
  type: 'drill';
  failure: 'crash' | 'exit' | 'lose-device';
}

/** Go back to explaining camera frames after a still picture (or a frozen frame). */
export interface CameraMessage {
  type: 'camera';
}

/** Stop reading the camera stream (the camera was stopped or replaced). */
export interface StopStreamMessage {
  type: 'stop-stream';
}

export type ToWorker = InitMessage | StreamMessage | FrameMessage | ImageMessage | SettingsMessage | ModelMessage | CameraMessage | StopStreamMessage | DrillMessage;

// ---- worker → page -------------------------------------------------------------------------

export interface ReadyMessage {
  type: 'ready';
  version: number;
  backend: BackendName;
  /** Why better backends were not used, one line each ("webgpu: software adapter, 40× slower than wasm"). */
  backendNotes: string[];
  model: string;
  layers: FeatureLayer[];
  defaultLayer: string;
  camLayer: string | null;
  /** Time to load the model and compile its kernels. */
  startupMs: number;
}

export interface ProgressMessage {
  type: 'progress';
  text: string;
}

/** A heatmap for one frame or picture. `heatmap` is transferred. */
export interface ResultMessage {
  type: 'result';
  source: { kind: 'camera'; streamId: number } | { kind: 'image'; imageId: number };
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
  heatmap: { width: number; height: number; data: Float32Array };
  region: Region;
  sourceSize: { width: number; height: number };
  /** Per stage; `preprocessMs` is frame → tensor. `waitMs`: from capture until the worker took the frame. */
  timings: StageTimings & { waitMs: number };
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
export interface AliveMessage {
  type: 'alive';
}

/** The camera stream the worker was reading ended (the track stopped or was unplugged). */
export interface StreamEndedMessage {
  type: 'stream-ended';
  streamId: number;
}

/** The GPU device was lost; the worker is re-creating the backend and reloading the model. */
export interface RecoveringMessage {
  type: 'recovering';
  reason: string;
}

export type FromWorker = ReadyMessage | ProgressMessage | ResultMessage | ErrorMessage | AliveMessage | StreamEndedMessage | RecoveringMessage;

/** Milliseconds since the epoch on a clock shared by the page and its workers. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}
