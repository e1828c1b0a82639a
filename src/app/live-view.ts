import { localized, msg } from '@lit/localize';
import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { Heatmap } from '../explain/methods/types.js';
import type { Region } from '../explain/runtime/crop.js';
import { wallClock } from '../protocol.js';
import { createHeatmapRenderer, type HeatmapRenderer, type OverlayStyle } from './heatmap-renderer.js';
import { RateMeter } from './stats.js';
import type { ComposedView } from './video/compose.js';

export interface OverlayFrame {
  heatmap: Heatmap;
  region: Region;
  sourceSize: { width: number; height: number };
  captureTime: number | null;
  frame: number;
}

/** Fired after a heatmap has been drawn, with the wall-clock time it was painted. */
export type PaintedEvent = CustomEvent<{ frame: number; captureTime: number | null; paintedAt: number }>;

/**
 * The picture and its heatmap: the camera's video shown natively at full rate (or a still
 * picture), with the overlay canvas on top, repainted whenever a heatmap arrives.
 */
@customElement('whycam-live-view')
@localized()
export class LiveView extends LitElement {
  static override styles = css`
    :host { display: block; position: relative; background: #000; }
    .frame { position: relative; margin: 0 auto; max-width: 100%; max-height: 100%; }
    /* The page may cap the picture's height (--view-max-height): the width follows the source's shape. */
    .frame { max-width: min(100%, calc(var(--view-max-height, 1e5px) * var(--source-aspect, 1.78))); }
    video, canvas { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
    .mirror { transform: scaleX(-1); }
    .empty { color: #ccc; display: grid; place-items: center; min-height: 12rem; padding: 1rem; text-align: center; }
    .label { position: absolute; left: 0.5rem; top: 0.5rem; padding: 0.2rem 0.6rem; border-radius: 0.3rem;
      background: rgba(0,0,0,0.65); color: #fff; font: 600 var(--label-size, 1.1rem)/1.3 system-ui, sans-serif; pointer-events: none; }
  `;

  /** The camera, shown natively; null in still-image mode. */
  @property({ attribute: false }) stream: MediaStream | null = null;
  /** A video file's object URL, played in the `<video>` instead of the camera (paused: its frame stays). */
  @property({ attribute: false }) videoSrc: string | null = null;
  /** A still picture (opened photo, or the frozen camera frame); drawn instead of the video. */
  @property({ attribute: false }) picture: ImageBitmap | null = null;
  @property({ type: Boolean }) mirror = false;
  @property({ attribute: false }) overlayStyle: OverlayStyle = {
    colormap: 'jet',
    alpha: 0.5,
    threshold: 0,
    dimOutside: 0.45,
  };
  /** The heatmap to paint; a new object paints once (the renderer draws it at once, without waiting for layout). */
  @property({ attribute: false }) frame: OverlayFrame | null = null;
  /** Text over the picture, e.g. "golden retriever 78%". */
  @property() label = '';
  /** What the view says while there is no picture; empty: that the camera is starting. */
  @property() emptyText = '';

  @query('video') private video?: HTMLVideoElement;
  @query('canvas.overlay') private overlayCanvas?: HTMLCanvasElement;
  @query('canvas.picture') private pictureCanvas?: HTMLCanvasElement;
  @query('.frame') private frameElement?: HTMLElement;

  private renderer: HeatmapRenderer | null = null;
  private pending: OverlayFrame | null = null;
  private last: OverlayFrame | null = null;
  private rafId = 0;
  private readonly cameraRate = new RateMeter(2000);
  private readonly decodedSamples: { at: number; frames: number }[] = [];
  private videoFrameCallback = 0;
  private sourceSize = { width: 16, height: 9 };

  /** Frames per second the camera's video actually presents. */
  get cameraFps(): number {
    const now = performance.now();
    const presented = this.cameraRate.rate(now);
    return presented > 0 ? presented : this.decodedRate(now);
  }

  /**
   * The video's decoded frames per second, from its playback counters sampled when asked (twice a
   * second, by the panel): WebKitGTK painting without compositing never calls
   * `requestVideoFrameCallback`, though the camera runs.
   */
  private decodedRate(now: number): number {
    const quality = this.video?.getVideoPlaybackQuality?.();
    if (!quality) return 0;
    const samples = this.decodedSamples;
    samples.push({ at: now, frames: quality.totalVideoFrames });
    while (samples.length > 2 && now - samples[0]!.at > 2000) samples.shift();
    const first = samples[0]!;
    return now - first.at < 250 ? 0 : ((quality.totalVideoFrames - first.frames) * 1000) / (now - first.at);
  }

  get rendererKind(): string {
    return this.renderer?.kind ?? 'none';
  }

  /** The picture as shown (video or still), for saving. */
  get source(): { image: CanvasImageSource; width: number; height: number } | null {
    if (this.picture) return { image: this.picture, width: this.picture.width, height: this.picture.height };
    const v = this.video;
    if (v && v.videoWidth > 0) return { image: v, width: v.videoWidth, height: v.videoHeight };
    return null;
  }

  /** What this view shows now, for the recording: the picture, the map painted over it, the label. */
  composedView(): ComposedView | null {
    const s = this.source;
    if (!s) return null;
    const f = this.last;
    const overlay = f ? { heatmap: f.heatmap, region: f.region } : null;
    return { picture: s.image, sourceWidth: s.width, sourceHeight: s.height, overlay, label: this.label };
  }

  /** The HUD line slotted into this view, as text. */
  get hudText(): string {
    return this.querySelector('whycam-hud-line')?.shadowRoot?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
  }

  get videoElement(): HTMLVideoElement | undefined {
    return this.video;
  }

  /**
   * Draws a heatmap at once (the low-latency canvas shows it with the next composited frame);
   * while the element is still being laid out, it waits for the next animation frame instead.
   */
  show(frame: OverlayFrame): void {
    this.pending = frame;
    if (this.renderer && !this.rafId) this.paint();
    else if (!this.rafId) this.rafId = requestAnimationFrame(() => this.paint());
  }

  clearOverlay(): void {
    this.last = null;
    this.renderer?.clear();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    cancelAnimationFrame(this.rafId);
    this.rafId = 0;
  }

  protected override render() {
    const hasPicture = !!this.picture || !!this.stream || !!this.videoSrc;
    return html`
      ${
        hasPicture
          ? html`
        <div class="frame">
          <video class=${this.mirror ? 'mirror' : ''} ?hidden=${!!this.picture} autoplay muted playsinline
            @loadedmetadata=${this.onMetadata}></video>
          <canvas class="picture ${this.mirror ? 'mirror' : ''}" ?hidden=${!this.picture}></canvas>
          <canvas class="overlay ${this.mirror ? 'mirror' : ''}" aria-label=${msg('heatmap')}></canvas>
          ${this.label ? html`<div class="label" aria-live="polite">${this.label}</div>` : null}
          <slot></slot>
        </div>`
          : html`<div class="empty">${this.emptyText || msg('Starting the camera…')}</div>`
      }
    `;
  }

  protected override updated(changed: PropertyValues<this>): void {
    // Through CSSOM, not a style attribute: the Content-Security-Policy forbids inline styles.
    this.frameElement?.style.setProperty('aspect-ratio', `${this.sourceSize.width} / ${this.sourceSize.height}`);
    this.frameElement?.style.setProperty('--source-aspect', String(this.sourceSize.width / this.sourceSize.height));
    if (this.overlayCanvas && !this.renderer) this.renderer = createHeatmapRenderer(this.overlayCanvas);
    if (!this.overlayCanvas) this.renderer = null;
    if (changed.has('videoSrc') && this.video) this.playFile(this.videoSrc);
    if (changed.has('stream') && this.video && this.video.srcObject !== this.stream && !this.videoSrc) {
      this.video.srcObject = this.stream;
      if (this.stream) void this.video.play().catch(() => undefined);
      this.watchVideoFrames();
    }
    if (changed.has('picture') && this.picture) {
      this.setSourceSize(this.picture.width, this.picture.height);
      const c = this.pictureCanvas!;
      c.width = this.picture.width;
      c.height = this.picture.height;
      c.getContext('2d')!.drawImage(this.picture, 0, 0);
    }
    if (changed.has('picture') && !this.picture && this.video) {
      this.setSourceSize(this.video.videoWidth || 16, this.video.videoHeight || 9);
      if (this.video.paused && this.stream) void this.video.play().catch(() => undefined);
    }
    if (changed.has('frame') && this.frame) this.show(this.frame);
    // No result for the picture on screen yet (a new photo or camera): no map from the previous one over it.
    if (changed.has('frame') && !this.frame && changed.get('frame')) {
      this.pending = null;
      this.clearOverlay();
    }
    if (changed.has('overlayStyle') || changed.has('mirror')) {
      if (this.last && !this.pending) this.show(this.last);
    }
  }

  /** Plays a file (autoplay, muted) in the `<video>`; null empties it. */
  private playFile(url: string | null): void {
    const v = this.video!;
    if (url) {
      v.srcObject = null;
      v.src = url;
      this.watchVideoFrames();
    } else if (v.getAttribute('src')) {
      v.removeAttribute('src');
      v.load();
    }
  }

  private onMetadata = (): void => {
    if (!this.picture && this.video) this.setSourceSize(this.video.videoWidth, this.video.videoHeight);
  };

  private setSourceSize(width: number, height: number): void {
    if (width !== this.sourceSize.width || height !== this.sourceSize.height) {
      this.sourceSize = { width, height };
      this.requestUpdate();
    }
  }

  private watchVideoFrames(): void {
    const v = this.video;
    if (!v || !('requestVideoFrameCallback' in v)) return;
    if (this.videoFrameCallback) v.cancelVideoFrameCallback(this.videoFrameCallback);
    this.cameraRate.clear();
    this.decodedSamples.length = 0;
    const tick = (): void => {
      this.cameraRate.tick(performance.now());
      this.videoFrameCallback = v.requestVideoFrameCallback(tick);
    };
    this.videoFrameCallback = v.requestVideoFrameCallback(tick);
  }

  private paint(): void {
    this.rafId = 0;
    const frame = this.pending;
    this.pending = null;
    if (!frame || !this.renderer) return;
    this.renderer.draw(frame.heatmap, frame.region, frame.sourceSize, this.overlayStyle);
    const repaint = frame === this.last;
    this.last = frame;
    // A still picture's map is drawn once, right after the picture changed the layout; WebKitGTK
    // painting without compositing loses that first WebGL draw (the map never appears until the
    // next). Drawn again after the next rendering update (two animation frames on), it stays.
    // (Camera maps are redrawn anyway.)
    if (!repaint && frame.captureTime === null) {
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          if (this.last === frame && this.renderer)
            this.renderer.draw(frame.heatmap, frame.region, frame.sourceSize, this.overlayStyle);
        }),
      );
    }
    if (!repaint) {
      this.dispatchEvent(
        new CustomEvent('painted', {
          detail: { frame: frame.frame, captureTime: frame.captureTime, paintedAt: wallClock() },
        }),
      );
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-live-view': LiveView;
  }
}
