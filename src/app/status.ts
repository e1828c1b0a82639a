import { msg, str } from '@lit/localize';
import { findModel } from '../../models/registry.js';
import { METHOD_NAMES } from '../explain/methods/names.js';
import type { ReadyMessage, ResultMessage } from '../protocol.js';
import type { WhyCamStatus } from './automation.js';
import type { CameraController } from './controllers/camera.js';
import type { MeasurementsController } from './controllers/measurements.js';
import type { NoticesController } from './controllers/notices.js';
import type { PerturbationController } from './controllers/perturbation.js';
import type { PwaController } from './controllers/pwa.js';
import type { ComparisonController } from './controllers/comparison.js';
import type { PresentationController } from './controllers/presentation.js';
import type { TeachController } from './controllers/teach.js';
import type { WorkerConnection } from './controllers/worker-connection.js';
import type { SourceController } from './controllers/source.js';
import type { VideoTools } from './controllers/video-tools.js';
import { framePathText } from './frame-path-text.js';
import type { HudFigures } from './hud.js';
import type { LiveView } from './live-view.js';
import type { AppSettings } from './settings.js';

/** The page's state as the app root holds it, for the automation API and the performance panel. */
export interface AppState {
  settings: AppSettings;
  latest: ResultMessage | null;
  mode: WhyCamStatus['mode'];
  frozen: boolean;
  worker: WorkerConnection;
  camera: CameraController;
  measurements: MeasurementsController;
  notices: NoticesController;
  pwa: PwaController;
  view: LiveView | null;
  lang: WhyCamStatus['lang'];
  teach: TeachController;
  comparison: ComparisonController;
  presentation: PresentationController;
  perturbation: PerturbationController;
  source: SourceController;
  tools: VideoTools;
}

export function statusOf(a: AppState): WhyCamStatus {
  // Only a result answering the current request (source, model, settings) is reported.
  const r = a.latest && a.latest.request === a.worker.request ? a.latest : null;
  const s = a.settings;
  const ready = a.worker.ready;
  const pageHeap =
    (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
  return {
    ready: !!ready,
    backend: ready?.backend ?? null,
    backendNotes: ready?.backendNotes ?? [],
    wasmThreads: ready?.wasmThreads ?? null,
    model: ready?.model ?? s.model,
    modelName: ready?.modelName ?? null,
    labels: ready?.labels ?? [],
    modelOrigin: ready?.origin ?? null,
    methodNotes: ready?.methodNotes ?? null,
    modelSummary: ready?.modelSummary ?? [],
    teach: {
      open: a.teach.open,
      classes: a.teach.classes.map((c) => ({
        name: c.name,
        examples: c.examples.filter((e) => e.state === 'ok').length,
      })),
      training: a.teach.progress?.stage ?? null,
    },
    method: r?.method ?? null,
    reduction: r?.reduction ?? s.reduction,
    layer: r?.layer ?? null,
    layers: (ready?.layers ?? []).map((l) => ({ name: l.name, width: l.width, height: l.height })),
    classIndex: s.classIndex,
    target: r?.target ?? null,
    mode: a.mode,
    frozen: a.frozen,
    frameAcks: { ...a.camera.acks, dropped: { ...a.camera.acks.dropped } },
    framePath: a.camera.framePath,
    frames: a.measurements.painted,
    request: a.worker.request,
    answers: r
      ? {
          source: r.source.kind,
          id: r.source.kind === 'camera' ? r.source.streamId : r.source.imageId,
          request: r.request,
          model: r.model,
        }
      : null,
    recent: a.measurements.recent,
    fps: a.measurements.heatmapsPerSecond,
    cameraFps: a.mode === 'camera' && a.view ? a.view.cameraFps : null,
    latencyMs: a.measurements.latencyMs,
    stages: a.measurements.stages(),
    predictions: r?.predictions ?? [],
    heatmap: r ? { width: r.heatmap.width, height: r.heatmap.height, data: Array.from(r.heatmap.data) } : null,
    region: r?.region ?? null,
    numTensors: r?.numTensors ?? null,
    openFrames: r?.openFrames ?? null,
    memory: r ? { ...r.memory, pageHeapBytes: pageHeap } : null,
    renderer: a.view?.rendererKind ?? 'none',
    workerRestarts: a.worker.restarts,
    workerStarts: a.worker.starts,
    online: a.pwa.online,
    offlineReady: a.pwa.offlineReady,
    updateReady: a.pwa.updateReady,
    notices: a.notices.all.map((n) => ({ topic: n.topic, message: n.message })),
    timeline: { cameraStarted: a.camera.firstStarted, firstHeatmap: a.measurements.firstPainted },
    error: a.notices.error,
    settings: { ...s },
    compare: s.compare,
    contrastClass: s.contrastClass,
    contrast: r?.contrast ?? null,
    presentation: a.presentation.on,
    fullscreen: a.presentation.fullscreen,
    hud: s.hud,
    views: a.comparison.views(r),
    lang: a.lang,
    scramble: { setting: s.scramble, scrambled: r?.scrambled ?? 0, blocks: ready?.scrambleBlocks ?? [] },
    perturbation: perturbationStatus(a.perturbation),
    video: a.source.video.position(),
    clip: {
      state: a.tools.clip.state,
      done: a.tools.clip.done,
      total: a.tools.clip.total,
      failure: a.tools.clip.failure,
    },
    recording: {
      on: a.tools.recording.recording,
      elapsedMs: a.tools.recording.elapsedMs,
      frames: a.tools.recording.frames,
    },
  };
}

function perturbationStatus(p: PerturbationController): WhyCamStatus['perturbation'] {
  const r = p.result;
  const shown = p.frame !== null;
  return {
    method: p.method,
    state: p.state,
    done: p.done,
    total: p.total,
    shown,
    target: r?.target ?? null,
    heatmap: r ? { width: r.heatmap.width, height: r.heatmap.height, data: Array.from(r.heatmap.data) } : null,
    region: r?.region ?? null,
    forwardPasses: r?.forwardPasses ?? null,
    failure: p.failure,
  };
}

/** The performance panel's figures; null until the first heatmap. */
export function figuresOf(a: AppState): HudFigures | null {
  const r = a.latest;
  const ready = a.worker.ready;
  if (!r || !ready) return null;
  const layer = ready.layers.find((l) => l.name === r.layer);
  return {
    heatmapsPerSecond: a.measurements.heatmapsPerSecond,
    cameraFps: a.mode === 'camera' && !a.frozen && a.view ? a.view.cameraFps : null,
    latencyMs: a.measurements.latencyMs,
    stages: a.measurements.stages(),
    backend: ready.backend,
    backendNotes: ready.backendNotes,
    framePath: a.mode === 'camera' && a.camera.framePath ? framePathText(a.camera.framePath) : null,
    stillMs: r.captureTime === null ? r.timings.totalMs : null,
    model: ready.modelName || (findModel(ready.model)?.displayName ?? ready.model),
    layer: r.layer,
    grid: layer ? `${layer.height}×${layer.width}` : `${r.heatmap.height}×${r.heatmap.width}`,
    method: METHOD_NAMES[r.method],
    reduction: r.method === 'cam' ? msg('classifier weights') : r.reduction,
    coincidence: coincidence(r, ready, a.settings),
  };
}

/** The sentence for teachers when two settings give the same map. */
function coincidence(r: ResultMessage, ready: ReadyMessage, s: AppSettings): string | null {
  if (r.method === 'gradcam' && r.reduction === 'logit' && r.layer === ready.camLayer) {
    return msg(
      "Here Grad-CAM is exactly CAM: after this layer the network only averages and applies one linear layer, so the gradient weights are the classifier's weights. Try LayerCAM, the softmax reduction or an earlier layer to see a difference.",
    );
  }
  if (r.method === 'cam' && s.layer !== 'auto' && s.layer !== ready.camLayer) {
    return msg(str`CAM is defined only at ${ready.camLayer}, so the layer choice (${s.layer}) does not apply to it.`);
  }
  return null;
}
