import { msg } from '@lit/localize';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { type ComposedView, compose, compositionSize } from '../video/compose.js';
import { createWebmWriter, download, type WebmWriter } from '../video/webm-writer.js';
import type { OverlayStyle } from '../heatmap-renderer.js';

/** What the screen shows now, view by view, as the recording burns it in. */
export interface RecordedScene {
  views: ComposedView[];
  style: OverlayStyle;
  mirror: boolean;
  hud: string;
}

interface RecordingHost {
  /** The views on screen now; null while there is no picture. */
  scene(): RecordedScene | null;
  failed(error: unknown): void;
}

/** Frames per second recorded: enough to follow the map, cheap enough to encode beside the explaining on 2 cores. */
const RECORD_FPS = 15;
const MAX_VIEW_WIDTH = 640;

/**
 * Records the live view — picture, overlay, label, HUD line, both views when side by side — into a
 * WebM kept on this device (downloaded when stopped), with the elapsed time shown while it runs.
 * Frames are stamped with the wall clock, so N seconds recorded play for N seconds.
 */
export class RecordingController implements ReactiveController {
  private writer: WebmWriter | null = null;
  private canvas: OffscreenCanvas | HTMLCanvasElement | null = null;
  private startedAt = 0;
  /** The time of the last frame written, s since the start. */
  private lastFrameTime = -Infinity;
  private lastAdd: Promise<void> = Promise.resolve();
  private raf = 0;
  private shownSecond = -1;
  private starting: Promise<void> | null = null;
  /** Frames written so far. */
  frames = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: RecordingHost,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    cancelAnimationFrame(this.raf);
    void this.writer?.cancel();
    this.writer = null;
  }

  get recording(): boolean {
    return this.writer !== null || this.starting !== null;
  }

  get elapsedMs(): number {
    return this.writer ? performance.now() - this.startedAt : 0;
  }

  toggle(): void {
    if (this.recording) void this.stop().catch((e) => this.page.failed(e));
    else void this.start().catch((e) => this.page.failed(e));
  }

  async start(): Promise<void> {
    if (this.recording) return;
    const scene = this.page.scene();
    if (!scene) throw new Error(msg('Nothing to record yet: no picture on screen.'));
    const first = scene.views[0]!;
    const size = compositionSize(
      { width: first.sourceWidth, height: first.sourceHeight },
      scene.views.length,
      false,
      MAX_VIEW_WIDTH,
    );
    // A page canvas where MediaRecorder must capture it (an OffscreenCanvas has no stream).
    const canvas =
      typeof VideoEncoder !== 'undefined' ? new OffscreenCanvas(size.width, size.height) : makeCanvas(size);
    this.starting = createWebmWriter(canvas, RECORD_FPS, 'realtime').then((writer) => {
      this.canvas = canvas;
      this.writer = writer;
      this.startedAt = performance.now();
      this.lastFrameTime = -Infinity;
      this.frames = 0;
      this.shownSecond = -1;
      this.raf = requestAnimationFrame(this.tick);
    });
    this.host.requestUpdate();
    try {
      await this.starting;
    } finally {
      this.starting = null;
      this.host.requestUpdate();
    }
  }

  /** Stops, saves the WebM on this device and resolves with it. */
  async stop(): Promise<Blob> {
    await this.starting;
    const writer = this.writer;
    if (!writer) throw new Error(msg('Not recording.'));
    cancelAnimationFrame(this.raf);
    this.writer = null;
    // A last frame, so that the recording lasts until the moment Stop was pressed.
    const end = (performance.now() - this.startedAt) / 1000 - 1 / RECORD_FPS;
    if (end > this.lastFrameTime) this.addFrame(writer, end);
    await this.lastAdd;
    const blob = await writer.finish();
    this.host.requestUpdate();
    download(blob, `whycam-recording-${new Date().toISOString().replace(/[:.]/g, '-')}.webm`);
    return blob;
  }

  private tick = (): void => {
    const writer = this.writer;
    if (!writer) return;
    const now = performance.now();
    const t = (now - this.startedAt) / 1000;
    if (t - this.lastFrameTime >= 1 / RECORD_FPS && !writer.busy) this.addFrame(writer, t);
    const second = Math.floor((now - this.startedAt) / 1000);
    if (second !== this.shownSecond) {
      this.shownSecond = second;
      this.host.requestUpdate();
    }
    this.raf = requestAnimationFrame(this.tick);
  };

  /** Burns the scene into the canvas and hands it to the encoder, stamped with its time since the start (s). */
  private addFrame(writer: WebmWriter, t: number): void {
    const scene = this.page.scene();
    if (!scene) return;
    compose(this.canvas!, scene);
    this.lastFrameTime = t;
    this.frames++;
    this.lastAdd = writer.add(t, 1 / RECORD_FPS).catch((e) => this.page.failed(e));
  }
}

function makeCanvas(size: { width: number; height: number }): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = size.width;
  c.height = size.height;
  return c;
}
