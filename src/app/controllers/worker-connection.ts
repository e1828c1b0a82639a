import { msg, str } from '@lit/localize';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  type BackendName,
  type ErrorMessage,
  type ExplainSettings,
  type FrameAckMessage,
  PROTOCOL_VERSION,
  type ReadyMessage,
  type ResultMessage,
  type ToWorker,
  type FromWorker,
} from '../../protocol.js';
import { WorkerClient } from '../worker-client.js';

/** The messages that start a new request (`NewRequest`): a new source, model or settings. */
const NEW_REQUEST = new Set<ToWorker['type']>([
  'init',
  'stream',
  'track',
  'image',
  'camera',
  'stop-stream',
  'settings',
  'model',
  'open-model',
  'teach-train',
]);

export interface WorkerConnectionEvents {
  /** What to tell a new (or restarted) worker. */
  init(): { model: string; settings: ExplainSettings };
  /** A result of the current request and model (those of earlier ones are dropped here). */
  result(result: ResultMessage): void;
  frameAck(ack: FrameAckMessage): void;
  streamEnded(streamId: number): void;
  /** The worker could not read the transferred camera track (no track processor there). */
  trackRefused(streamId: number): void;
  /** A model is ready; also after a restart or a recovered GPU. */
  ready(ready: ReadyMessage): void;
  /** The worker reported a failure (fatal: it cannot go on without a reload). */
  error(error: ErrorMessage): void;
  /** The GPU device was lost and the worker rebuilds its backend. */
  recovering(reason: string): void;
  /** The worker died or went silent and a fresh one was started; the page re-sends its sources. */
  restarted(reason: string): void;
  /** Any other message (teaching, picked models). */
  other(message: FromWorker): void;
}

/**
 * The page's connection to the explanation worker: starting it, what it reported last (ready,
 * progress), and a watchdog that replaces a worker that has gone silent.
 */
export class WorkerConnection implements ReactiveController {
  ready: ReadyMessage | null = null;
  progress = msg('Starting…');
  starts = 0;
  /** The current request: the number of the latest message that changed the source, model or settings. */
  request = 0;
  /** Results dropped because they answered an earlier request or model. */
  staleResults = 0;
  private client: WorkerClient | null = null;
  /** No heartbeat is expected while a model loads and compiles. */
  private loading = true;
  private lastHeard = performance.now();
  private watchdog = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly backend: BackendName | null,
    private readonly events: WorkerConnectionEvents,
    /** The worker's time per frame lately, which sets how long a silence may last. */
    private readonly frameMs: () => number,
  ) {
    host.addController(this);
  }

  get restarts(): number {
    return this.client?.restartCount ?? 0;
  }

  hostConnected(): void {
    this.client = new WorkerClient(
      () =>
        new Worker(new URL('../../../workers/explain.worker.ts', import.meta.url), {
          type: 'module',
          name: 'whycam-explain',
        }),
      { message: (m) => this.onMessage(m), restarted: (reason) => this.onRestarted(reason) },
    );
    this.start();
    this.watchdog = window.setInterval(() => this.checkAlive(), 250);
  }

  hostDisconnected(): void {
    clearInterval(this.watchdog);
    this.client?.terminate();
    this.client = null;
  }

  /** Sends a message; one that changes the source, model or settings is numbered as the new request. */
  send(message: ToWorker, transfer: Transferable[] = []): void {
    const starts = NEW_REQUEST.has(message.type);
    const numbered = starts ? { ...message, request: this.request + 1 } : message;
    // A message that cannot be sent (postMessage throws: not transferable here) starts no request.
    this.client?.send(numbered, transfer);
    if (starts) this.request++;
  }

  /** Whether a result answers the current request with the model in use (not an earlier source, model or setting). */
  isCurrent(r: ResultMessage): boolean {
    return r.request === this.request && !!this.ready && r.model === this.ready.model;
  }

  /** Asks for another model; the worker answers with `ready` once it is loaded. */
  loadModel(model: string, displayName: string): void {
    this.ready = null;
    this.loading = true;
    this.progress = msg(str`Loading ${displayName}…`);
    this.send({ type: 'model', model });
    this.host.requestUpdate();
  }

  private start(): void {
    this.starts++;
    const { model, settings } = this.events.init();
    this.send({
      type: 'init',
      version: PROTOCOL_VERSION,
      backend: this.backend,
      model,
      modelBaseUrl: new URL('models', new URL(import.meta.env.BASE_URL, location.href)).href,
      settings,
    });
  }

  private onMessage(m: FromWorker): void {
    this.lastHeard = performance.now();
    switch (m.type) {
      case 'alive':
        return;
      case 'result':
        if (this.isCurrent(m)) this.events.result(m);
        else this.staleResults++;
        return;
      case 'frame-ack':
        return this.events.frameAck(m);
      case 'stream-ended':
        return this.events.streamEnded(m.streamId);
      case 'track-refused':
        return this.events.trackRefused(m.streamId);
      case 'progress':
        this.progress = m.text;
        break;
      case 'recovering':
        this.loading = true;
        this.progress = msg('Restarting the GPU backend…');
        this.events.recovering(m.reason);
        break;
      case 'ready':
        this.ready = m;
        this.loading = false;
        this.progress = '';
        this.events.ready(m);
        break;
      case 'error':
        if (m.fatal) {
          this.progress = m.message;
          this.loading = true;
        }
        this.events.error(m);
        break;
      default:
        this.events.other(m);
    }
    this.host.requestUpdate();
  }

  /** A worker that has gone quiet for several of its own frame times is dead: replace it. */
  private checkAlive(): void {
    if (!this.ready || this.loading || document.hidden) return;
    const silent = performance.now() - this.lastHeard;
    // Before its first frame is measured, the model's start-up (which includes a warm-up frame) is the yardstick:
    // on the CPU backend one frame keeps the worker's event loop busy for seconds.
    const frameMs = this.frameMs() || this.ready.startupMs;
    if (silent > Math.max(1500, 3 * frameMs + 500)) {
      this.client?.restart(msg(str`the worker stopped answering for ${(silent / 1000).toFixed(1)} s`));
    }
  }

  private onRestarted(reason: string): void {
    this.ready = null;
    this.loading = true;
    this.lastHeard = performance.now();
    this.progress = msg('Restarting the explanation worker…');
    this.start();
    this.events.restarted(reason);
    this.host.requestUpdate();
  }
}
