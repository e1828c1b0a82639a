import type { Prediction } from '../explain/explainer.js';
import type { BackendName, ResultMessage } from '../protocol.js';
import type { HudFigures } from './hud.js';
import type { AppSettings } from './settings.js';

/**
 * The automation API, `window.whycam`, for tests and teachers' scripts: its types, in a file of
 * their own so that scripts outside the page can use them.
 */
/** What `window.whycam.status()` returns: the latest frame's explanation and the measured speed. */
export interface WhyCamStatus {
  ready: boolean;
  backend: BackendName | null;
  backendNotes: string[];
  model: string;
  method: string;
  reduction: string;
  /** The layer the latest heatmap came from. */
  layer: string | null;
  layers: { name: string; width: number; height: number }[];
  /** The pinned class, or null when following the top-1. */
  classIndex: number | null;
  target: Prediction | null;
  mode: 'camera' | 'image' | 'none';
  frozen: boolean;
  /** Heatmaps painted so far. */
  frames: number;
  /** The last painted heatmaps, oldest first: which frame (count of painted heatmaps) showed what. */
  recent: { frame: number; method: string; layer: string; classIndex: number; width: number }[];
  /** Heatmaps per second. */
  fps: number;
  cameraFps: number | null;
  latencyMs: { p50: number | null; p95: number | null };
  stages: HudFigures['stages'];
  predictions: Prediction[];
  heatmap: { width: number; height: number; data: number[] } | null;
  region: { x: number; y: number; width: number; height: number } | null;
  numTensors: number | null;
  openFrames: number | null;
  /** The worker's tfjs memory (see the protocol), and this page's JS heap where the browser tells it. */
  memory: (ResultMessage['memory'] & { pageHeapBytes: number | null }) | null;
  renderer: string;
  workerRestarts: number;
  /** Times the worker was initialised (load model, compile): once, unless it had to be restarted. */
  workerStarts: number;
  online: boolean;
  /** The service worker controls the page: the app works offline. */
  offlineReady: boolean;
  updateReady: boolean;
  error: string | null;
  /** Every message on screen, by topic (camera, model, worker, image, update…). */
  notices: { topic: string; message: string }[];
  /** Milliseconds since the page started: when the camera delivered its stream, when the first heatmap was painted. */
  timeline: { cameraStarted: number | null; firstHeatmap: number | null };
  settings: AppSettings;
}

/** What `window.whycam.set()` takes: the same as the controls. */
export type WhyCamSet = Partial<Pick<AppSettings, 'method' | 'layer' | 'classIndex' | 'reduction' | 'colormap' | 'alpha' | 'threshold' | 'smoothing' | 'crop' | 'model' | 'mirror' | 'projector'>> & { frozen?: boolean };


export interface WhyCamApi {
  status(): WhyCamStatus;
  set(partial: WhyCamSet): void;
  openImage(blob: Blob): Promise<void>;
  useCamera(): Promise<void>;
  save(): Promise<void>;
  drill(failure: 'crash' | 'exit' | 'lose-device'): void;
  checkForUpdate(): Promise<void>;
}
