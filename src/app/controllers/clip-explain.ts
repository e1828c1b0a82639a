import { msg, str } from '@lit/localize';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { WhyCamError } from '../../explain/errors.js';
import type { ResultMessage, ToWorker } from '../../protocol.js';
import type { OverlayStyle } from '../heatmap-renderer.js';
import { methodCaption } from '../i18n/method-caption.js';
import type { ClipFrame, ClipResult } from '../video/clip-result.js';
import { compose, compositionSize } from '../video/compose.js';
import { createWebmWriter, type WebmWriter } from '../video/webm-writer.js';
import type { OpenedClip } from '../video/clip-file.js';
import type { SourceController } from './source.js';

/** What `explainVideo` takes. */
export interface ClipOptions {
  /** Explain every n-th frame (default 1: all of them). */
  every?: number;
  /** Also encode the clip with the overlay burned in (default true). */
  webm?: boolean;
}

export interface ClipSettings {
  model: string;
  classIndex: number | null;
  contrastClass: number | null;
  reduction: string;
}

export type ClipState = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

interface ClipHost {
  send(message: ToWorker, transfer?: Transferable[]): void;
  source: SourceController;
  style(): OverlayStyle;
  mirror(): boolean;
  /** The settings the frames are explained with. */
  settings(): ClipSettings;
}

const THUMB_HEIGHT = 48;

/**
 * Explains every frame (or every n-th) of the opened clip, as fast as the device allows: each frame
 * decoded by WebCodecs (demuxed by mediabunny) goes to the worker as a still picture — the same path
 * an opened photo takes, so each map is the one that frame gives as a photo — one after the other,
 * with progress and Cancel; optionally burned into a WebM as it goes.
 */
export class ClipExplainController implements ReactiveController {
  state: ClipState = 'idle';
  done = 0;
  total = 0;
  result: ClipResult | null = null;
  /** Small pictures of the explained frames, for the timeline's strip. */
  thumbnails: ImageBitmap[] = [];
  failure: string | null = null;
  private cancelled = false;
  private nextImageId = 0;
  /** The frame the worker is explaining now, by its (negative) picture number. */
  private waiting: { imageId: number; resolve: (r: ResultMessage) => void; reject: (e: Error) => void } | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: ClipHost,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.cancel();
    this.forget();
  }

  /** Takes the results of the clip's frames (numbered below zero: never a photo's); true when it was one. */
  accept(r: ResultMessage): boolean {
    if (r.source.kind !== 'image' || r.source.imageId >= 0) return false;
    if (this.waiting?.imageId === r.source.imageId) {
      this.waiting.resolve(r);
      this.waiting = null;
    }
    return true;
  }

  /** A restarted worker lost the frame it was explaining: the run fails (its frames so far are kept). */
  restarted(): void {
    this.waiting?.reject(new Error(msg('The worker was restarted while it explained the clip.')));
    this.waiting = null;
  }

  cancel(): void {
    if (this.state === 'running') this.cancelled = true;
  }

  async run(options: ClipOptions = {}): Promise<ClipResult> {
    const every = Math.max(1, Math.floor(options.every ?? 1));
    const source = this.page.source;
    const clip = source.mode === 'video' ? source.video.clip : null;
    if (this.state === 'running') throw new Error(msg('The clip is already being explained.'));
    if (!clip) throw new WhyCamError('bad-option', msg('Open a video first.'));
    if (!clip.info.webCodecs)
      throw new WhyCamError(
        'bad-option',
        msg(
          str`This browser has no WebCodecs decoder for ${clip.info.codecString}: the clip plays, but cannot be explained frame by frame here.`,
        ),
      );
    this.forget();
    this.state = 'running';
    this.cancelled = false;
    this.done = 0;
    this.total = Math.ceil(clip.info.frameCount / every);
    this.host.requestUpdate();
    await source.video.holdFrame();
    source.video.lock(true);
    try {
      return await this.explainFrames(clip, every, options.webm !== false);
    } finally {
      source.video.lock(false);
      // The worker goes back to the frame on screen (its picture was the clip's frames meanwhile).
      if (source.still.picture) void source.still.resend();
      else void source.video.holdFrame();
    }
  }

  private async explainFrames(clip: OpenedClip, every: number, wantWebm: boolean): Promise<ClipResult> {
    const started = performance.now();
    const s = this.page.settings();
    const frames: ClipFrame[] = [];
    const canvasSize = compositionSize(clip.info, 1, true);
    const canvas = new OffscreenCanvas(canvasSize.width, canvasSize.height);
    let writer: WebmWriter | null = null;
    let webmError: string | undefined;
    if (wantWebm) {
      try {
        writer = await createWebmWriter(canvas, clip.info.frameRate / every);
      } catch (e) {
        webmError = e instanceof Error ? e.message : String(e);
      }
    }
    let decoded = 0;
    let last: ResultMessage | null = null;
    try {
      const { VideoSampleSink } = await import('mediabunny');
      for await (const sample of new VideoSampleSink(clip.track).samples()) {
        const index = decoded++;
        try {
          if (this.cancelled) break;
          if (index % every !== 0) continue;
          const videoFrame = sample.toVideoFrame();
          const picture = await createImageBitmap(videoFrame).finally(() => videoFrame.close());
          try {
            const r = await this.explain(picture, clip);
            last = r;
            const duration = sample.duration * every;
            frames.push(frameOf(r, index, sample.timestamp - clip.info.start, duration));
            this.thumbnails.push(await thumbnail(picture));
            if (writer) {
              compose(canvas, {
                views: [
                  { picture, sourceWidth: picture.width, sourceHeight: picture.height, overlay: r, label: label(r) },
                ],
                style: this.page.style(),
                mirror: this.page.mirror(),
                title: `${label(r)} — ${methodCaption(r.method, r.layer)}`,
              });
              await writer.add(sample.timestamp - clip.info.start, duration);
            }
          } finally {
            picture.close();
          }
          this.done++;
          this.host.requestUpdate();
        } finally {
          sample.close();
        }
      }
    } catch (e) {
      await writer?.cancel();
      this.state = 'failed';
      this.failure = e instanceof Error ? e.message : String(e);
      this.host.requestUpdate();
      throw e;
    }
    const cancelled = this.cancelled;
    let webm: Blob | undefined;
    if (writer && !cancelled) webm = await writer.finish();
    else await writer?.cancel();
    const totalMs = performance.now() - started;
    this.result = {
      file: clip.info.name,
      model: last?.model ?? s.model,
      method: last?.method ?? '',
      reduction: last?.reduction ?? s.reduction,
      layer: last?.layer ?? '',
      classIndex: s.classIndex,
      contrastClass: s.contrastClass,
      every,
      decodedFrames: decoded,
      duration: clip.info.duration,
      size: { width: clip.info.width, height: clip.info.height },
      frames,
      cancelled,
      totalMs,
      framesPerSecond: (frames.length * 1000) / totalMs,
      ...(webm ? { webm, webmEncoder: writer!.kind } : {}),
      ...(webmError ? { webmError } : {}),
    };
    this.state = cancelled ? 'cancelled' : 'done';
    this.host.requestUpdate();
    return this.result;
  }

  /**
   * Sends one frame as a still picture and waits for its result; fails if the clip stops being the
   * source meanwhile (a photo or the camera opened: the worker then explains that instead).
   */
  private async explain(picture: ImageBitmap, clip: OpenedClip): Promise<ResultMessage> {
    const copy = await createImageBitmap(picture);
    let watch = 0;
    return new Promise<ResultMessage>((resolve, reject) => {
      const imageId = --this.nextImageId;
      this.waiting = { imageId, resolve, reject };
      this.page.send({ type: 'image', bitmap: copy, imageId }, [copy]);
      watch = window.setInterval(() => {
        if (this.page.source.video.clip === clip) return;
        this.waiting = null;
        reject(new Error(msg('Another source replaced the clip while it was being explained.')));
      }, 250);
    }).finally(() => clearInterval(watch));
  }

  /** Drops the previous run's result and pictures. */
  private forget(): void {
    this.thumbnails.forEach((t) => t.close());
    this.thumbnails = [];
    this.result = null;
    this.failure = null;
  }
}

function label(r: ResultMessage): string {
  return `${r.target.label} (${r.target.score.toFixed(2)})`;
}

function frameOf(r: ResultMessage, index: number, time: number, duration: number): ClipFrame {
  const { predictions, target, contrast, heatmap, region } = r;
  return { index, time, duration, predictions, target, contrast, heatmap, region };
}

function thumbnail(picture: ImageBitmap): Promise<ImageBitmap> {
  const width = Math.round((picture.width * THUMB_HEIGHT) / picture.height);
  return createImageBitmap(picture, { resizeWidth: width, resizeHeight: THUMB_HEIGHT, resizeQuality: 'medium' });
}
