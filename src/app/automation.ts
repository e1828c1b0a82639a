import type { Prediction } from '../explain/methods/types.js';
import type { ClassReport } from '../explain/models/taught-format.js';
import type { Normalization } from '../explain/network/normalization.js';
import type { PerturbationMethod } from '../explain/perturbation/perturbation.js';
import type { BackendName, DrillMessage, PerturbationSettings, ReadyMessage, ResultMessage } from '../protocol.js';
import type { PerturbationState } from './controllers/perturbation.js';
import type { FrameAckCounts, FramePath } from './controllers/camera.js';
import type { PictureResult } from './controllers/source.js';
import type { ClipOptions, ClipState } from './controllers/clip-explain.js';
import type { VideoPosition } from './controllers/video-source.js';
import type { ClipResult } from './video/clip-result.js';
import type { HudFigures } from './hud.js';
import type { Lang } from './i18n/choose-lang.js';
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
  /** Threads the WASM backend computes with: 1 when single-threaded (or on another backend), null before a model is ready. */
  wasmThreads: number | null;
  /** The model in use: a registered id, or `stored:<name>` for a taught or opened model kept on this device. */
  model: string;
  /** Its name as shown, and its class names (from the worker, so a picked model's own labels). */
  modelName: string | null;
  labels: string[];
  modelOrigin: ReadyMessage['origin'] | null;
  /** Which methods are exact for a picked or taught model's head, or why CAM does not apply. */
  methodNotes: string | null;
  /** The own Keras model in use: what was recognised in it and what was assumed, one sentence each; else empty. */
  modelSummary: string[];
  /** Teach mode: its classes with their example counts, and the training run's stage. */
  teach: { open: boolean; classes: { name: string; examples: number }[]; training: string | null };
  /** The method of the heatmap shown; null until the current request (source, model, settings) has its first result. */
  method: string | null;
  reduction: string;
  /** The layer the latest heatmap came from. */
  layer: string | null;
  layers: { name: string; width: number; height: number }[];
  /** The pinned class, or null when following the top-1. */
  classIndex: number | null;
  target: Prediction | null;
  mode: 'camera' | 'image' | 'video' | 'none';
  frozen: boolean;
  /** The worker's answers to frames sent one by one (only where there is no MediaStreamTrackProcessor). */
  frameAcks: FrameAckCounts;
  /**
   * How the camera's frames reach the worker: a track processor's stream (`track-processor` on the
   * page, `worker-track-processor` for the track transferred to the worker), or grabbed one by one
   * as a `videoframe` or a `bitmap`, chosen by timing both (`costs`); null without a camera.
   */
  framePath: FramePath | null;
  /** Heatmaps painted so far. */
  frames: number;
  /**
   * The current request: numbered by the page each time the source, the model or the worker's
   * settings change. The result fields here (target, predictions, heatmap, layer…) are only ever
   * those of a result answering it: until the new source's (or model's, or setting's) first result
   * arrives they are empty, never the previous one's.
   */
  request: number;
  /** Which source, request and model the result shown answers; null while none does. */
  answers: {
    source: 'camera' | 'image';
    /** The camera session (camera) or the still picture's number (image). */
    id: number;
    request: number;
    model: string;
  } | null;
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
  /** Side by side: what the second view changes from the first, or null for one view. */
  compare: AppSettings['compare'];
  /** "Why A and not B": the class the map is explained against (the setting), and the latest map's B with its score. */
  contrastClass: number | null;
  contrast: Prediction | null;
  /** Presentation mode is on (`fullscreen`: the browser granted fullscreen; otherwise the page fills the window). */
  presentation: boolean;
  fullscreen: boolean;
  /** The heads-up line over the picture is shown. */
  hud: boolean;
  /** With a comparison on, both views of the latest frame (first, second); null otherwise. */
  views:
    | {
        method: string;
        layer: string;
        classIndex: number;
        contrastClass: number | null;
        label: string;
        heatmap: { width: number; height: number; data: number[] };
      }[]
    | null;
  /** The language the page shows now. */
  lang: Lang;
  /**
   * The live sanity check: `setting` blocks asked to be re-initialised (from the logits down),
   * `scrambled` the latest map's (0: the real network), and the blocks the model has.
   */
  scramble: { setting: number; scrambled: number; blocks: string[] };
  /** The video file shown: which frame and media time (that of the map shown while it plays); null for other sources. */
  video: VideoPosition | null;
  /** The whole-clip explanation: its state and progress (frames explained of those to explain). */
  clip: { state: ClipState; done: number; total: number; failure: string | null };
  /** The recording of the live view: on, for how long (ms), frames written. */
  recording: { on: boolean; elapsedMs: number; frames: number };
  /** Occlusion / LIME on the still picture: the run's state and progress, and its map while it is shown. */
  perturbation: {
    method: PerturbationMethod;
    state: PerturbationState;
    done: number;
    total: number;
    /** The map is on the overlay now (until the settings or the picture change). */
    shown: boolean;
    target: Prediction | null;
    heatmap: { width: number; height: number; data: number[] } | null;
    region: { x: number; y: number; width: number; height: number } | null;
    forwardPasses: number | null;
    failure: string | null;
  };
}

/** What `window.whycam.openImage()` resolves with: the photo's own first result. */
export type WhyCamImageResult = PictureResult;

/** What `window.whycam.set()` takes: the same as the controls. */
export type WhyCamSet = Partial<
  Pick<
    AppSettings,
    | 'method'
    | 'layer'
    | 'classIndex'
    | 'reduction'
    | 'colormap'
    | 'alpha'
    | 'threshold'
    | 'smoothing'
    | 'crop'
    | 'model'
    | 'mirror'
    | 'presentation'
    | 'hud'
    | 'compare'
    | 'contrastClass'
    | 'scramble'
  >
> & { frozen?: boolean; lang?: Lang };

/** What `window.whycam.teach()` resolves to once the taught model explains the live view. */
export interface WhyCamTeachResult {
  /** Share of held-back examples classified correctly (null with fewer than 5 examples in every class). */
  accuracy: number | null;
  classes: ClassReport[];
  labels: string[];
  trainMs: number;
  /** The taught model's id (`stored:<name>`). */
  model: string;
}

/** What `window.whycam.teachReport()` returns: the latest training's held-back examples. */
export interface WhyCamTeachReport {
  labels: string[];
  /** confusion[true class][predicted class]. */
  confusion: number[][];
  examples: {
    trueClass: number;
    predictedClass: number;
    /** The taught model's probability of the predicted class. */
    score: number;
    /** Which example: its class's example number `index` (in the order given to `teach()`). */
    index: number;
    /** CAM of the predicted class and of the true class on the example (exact on the taught head), in [0, 1]. */
    heatmap: { width: number; height: number; data: number[] };
    trueHeatmap: { width: number; height: number; data: number[] };
  }[];
}

/** What `window.whycam.lessonStep()` returns: where the lesson is, what the step says and what it set up. */
export interface WhyCamLessonStep {
  lesson: string;
  title: string;
  /** The step, from 0, of `count`. */
  index: number;
  count: number;
  /** The step's texts in the page's language: title, what to do, what to look for, the question for the class. */
  text: { title: string; task: string; look: string; ask: string };
  /** The settings the step applied for the model in use (null while it waits for the model). */
  applied: Partial<AppSettings> | null;
  /** What else it sets up: teach mode open or closed, the view frozen or live, occlusion, the board, the confusion matrix. */
  setup: { teach?: boolean; frozen?: boolean; occlusion?: boolean; board?: boolean; confusion?: boolean };
  /** Why the step cannot run as written here (a model without CAM, taught examples lost in a reload, no camera), or null. */
  blocked: string | null;
  /** The lesson was picked up where it was left, after a reload. */
  resumed: boolean;
  /** The pictures kept on the board (their images are on the worksheet). */
  board: { label: string; score: number; method: string }[];
}

export interface WhyCamTeachSpec {
  /** The name it is kept under (default: the class names). */
  name?: string;
  classes: { name: string; images: Blob[] }[];
}

/** What `window.whycam.perturb()` takes: the method and the CLI's options (unset: their defaults). */
export interface WhyCamPerturb {
  method?: PerturbationMethod;
  options?: Partial<PerturbationSettings>;
}

export interface WhyCamApi {
  /** Explains the still picture (the camera frame is frozen first) with occlusion or LIME; resolves with how the run ended. */
  perturb(request?: WhyCamPerturb): Promise<PerturbationState>;
  /** Stops the running occlusion or LIME job. */
  cancelPerturbation(): void;
  /**
   * Opens a Teachable Machine export (three files or its zip), an exported taught model, or your own
   * Keras model (model.json and its weight files, a labels.txt or a metadata.json with `labels` if
   * you have one, or their zip), or your own ONNX model (a .onnx file, a labels.txt if it has its
   * own classes; 1000 classes without one are ImageNet's); resolves once it is in use. `normalize`:
   * how an own model's input is normalised (default: assumed 'minus-one-to-one' for Keras,
   * 'imagenet' for ONNX, and the summary says so); kept with the model.
   */
  openModel(
    files: File[],
    options?: { normalize?: Normalization },
  ): Promise<{ model: string; labels: string[]; modelName: string; summary: string[] }>;
  /** Teaches the classes from the photos and resolves once the live view uses the taught model. */
  teach(spec: WhyCamTeachSpec): Promise<WhyCamTeachResult>;
  /** The latest training's confusion matrix and its held-back examples' maps; null before any training. */
  teachReport(): WhyCamTeachReport | null;
  status(): WhyCamStatus;
  set(partial: WhyCamSet): void;
  /** The lessons, in the page's language. */
  lessons(): { id: string; title: string; summary: string; steps: string[] }[];
  /** Starts a lesson (at its first step, or `step`) and resolves once the step is set up (occlusion started, not finished). */
  startLesson(id: string, step?: number): Promise<WhyCamLessonStep>;
  /** The lesson's step now, or null without a lesson. */
  lessonStep(): WhyCamLessonStep | null;
  /** Goes to the next step, set up; null at the last step (or without a lesson). */
  nextStep(): Promise<WhyCamLessonStep | null>;
  previousStep(): Promise<WhyCamLessonStep | null>;
  /** Keeps the view with its map on the lesson's board; null when nothing is explained yet. */
  keepOnBoard(): Promise<{ label: string; score: number; method: string } | null>;
  /** Leaves the lesson (its progress and board are forgotten). */
  endLesson(): void;
  /**
   * Opens a photo (still-image mode) and resolves with its own first result; null when the file is
   * not a usable picture, or another picture or the camera replaced it before its result came.
   */
  openImage(blob: Blob): Promise<WhyCamImageResult | null>;
  useCamera(): Promise<void>;
  /**
   * Opens a video file (MP4, WebM, Matroska) as the source, playing; resolves true once it plays,
   * false when it cannot (the message names why; the previous source stays).
   */
  openVideo(file: Blob): Promise<boolean>;
  /** Plays / pauses the clip, or shows the frame at a media time (s). */
  playVideo(): Promise<void>;
  pauseVideo(): Promise<void>;
  seekVideo(time: number): void;
  /**
   * Explains every frame (or every n-th) of the opened clip, not in real time, and resolves with
   * the per-frame results (and the WebM with the overlay burned in, unless `webm: false`).
   */
  explainVideo(options?: ClipOptions): Promise<ClipResult>;
  cancelExplainVideo(): void;
  /** Records the live view as shown (picture, overlay, label, HUD line, both views); stop resolves with the WebM (also saved). */
  startRecording(): Promise<void>;
  stopRecording(): Promise<Blob>;
  save(): Promise<void>;
  drill(failure: DrillMessage['failure']): void;
  checkForUpdate(): Promise<void>;
}

declare global {
  interface Window {
    /** The automation API, present while the app is on the page. */
    whycam?: WhyCamApi;
  }
}
