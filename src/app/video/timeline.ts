import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { COLORMAP_TABLES, type ColormapName } from '../../explain/render/colormaps.js';
import { type ClipFrame, type ClipResult, topClasses } from './clip-result.js';

const LINE_COLOURS = ['#ffcc00', '#4fc3f7', '#ef5350', '#9ccc65', '#ba68c8'];
const W = 960;
const LINES_H = 110;
const BAND_Y = 116;
const BAND_H = 14;
const STRIP_Y = 136;
const STRIP_H = 48;
const H = STRIP_Y + STRIP_H;

/**
 * The explained clip over time, under the picture: the top classes' scores as lines, the class each
 * frame's map explains as a coloured band, and a strip of small maps; a click (or arrow keys) seeks
 * the video there. Below it, the exports: the WebM with the overlay burned in, JSON and CSV.
 */
@customElement('whycam-timeline')
@localized()
export class Timeline extends LitElement {
  static override styles = css`
    :host { display: block; background: #111; color: #eee; padding: 0.4rem 0.5rem; border-radius: 0.3rem;
      font: 0.85rem/1.3 system-ui, sans-serif; }
    canvas { width: 100%; height: auto; display: block; cursor: pointer; background: #000; }
    .legend { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; align-items: center; margin-top: 0.3rem; }
    .swatch { display: inline-block; width: 0.9em; height: 0.25em; vertical-align: middle; margin-right: 0.3em; }
    button { font: inherit; padding: 0.15rem 0.6rem; }
    .exports { margin-left: auto; display: flex; gap: 0.4rem; }
  `;

  @property({ attribute: false }) result: ClipResult | null = null;
  @property({ attribute: false }) thumbnails: ImageBitmap[] = [];
  /** The media time on screen, s (the cursor). */
  @property({ type: Number }) time = 0;
  @property() colormap: ColormapName = 'jet';

  @query('canvas') private canvas?: HTMLCanvasElement;

  protected override render() {
    const r = this.result;
    if (!r) return null;
    const classes = topClasses(r.frames);
    const note = r.cancelled ? msg('cancelled') : '';
    return html`
      <canvas width=${W} height=${H} tabindex="0" role="slider" aria-label=${msg('timeline of the explained clip')}
        aria-valuemin="0" aria-valuemax=${r.duration} aria-valuenow=${this.time}
        @click=${this.onClick} @keydown=${this.onKey}></canvas>
      <div class="legend">
        ${classes.map((c, k) => html`<span data-class=${c.classIndex}><span class="swatch" data-colour=${k}></span>${c.label}</span>`)}
        <span>${msg(str`${r.frames.length} frames explained, ${r.framesPerSecond.toFixed(1)} per second`)} ${note}</span>
        <span class="exports">
          <button ?disabled=${!r.webm} title=${r.webmError ?? ''} @click=${() => this.export('webm')}>${msg('Save WebM')}</button>
          <button @click=${() => this.export('json')}>JSON</button>
          <button @click=${() => this.export('csv')}>CSV</button>
        </span>
      </div>
    `;
  }

  protected override updated(): void {
    // Swatch colours through CSSOM: the Content-Security-Policy forbids inline styles.
    this.renderRoot.querySelectorAll<HTMLElement>('[data-colour]').forEach((e) => {
      e.style.background = LINE_COLOURS[Number(e.dataset.colour)]!;
    });
    this.draw();
  }

  private draw(): void {
    const r = this.result;
    const ctx = this.canvas?.getContext('2d');
    if (!r || !ctx || r.frames.length === 0) return;
    ctx.clearRect(0, 0, W, H);
    const x = (t: number): number => (t / r.duration) * W;
    ctx.strokeStyle = '#333';
    for (const v of [0.25, 0.5, 0.75, 1]) {
      ctx.beginPath();
      ctx.moveTo(0, LINES_H * (1 - v));
      ctx.lineTo(W, LINES_H * (1 - v));
      ctx.stroke();
    }
    topClasses(r.frames).forEach((c, k) => {
      ctx.strokeStyle = LINE_COLOURS[k]!;
      ctx.lineWidth = 2;
      ctx.beginPath();
      r.frames.forEach((f, i) => {
        const score = f.predictions.find((p) => p.classIndex === c.classIndex)?.score ?? 0;
        const px = x(f.time + f.duration / 2);
        const py = LINES_H * (1 - score);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.stroke();
    });
    this.drawBand(ctx, r, x);
    this.drawStrip(ctx, r);
    const cx = x(this.time);
    ctx.fillStyle = '#fff';
    ctx.fillRect(cx - 1, 0, 2, H);
  }

  /** The explained class per frame: one colour per class, its name where it starts. */
  private drawBand(ctx: CanvasRenderingContext2D, r: ClipResult, x: (t: number) => number): void {
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    let previous = -1;
    for (const f of r.frames) {
      ctx.fillStyle = classColour(f.target.classIndex);
      ctx.fillRect(x(f.time), BAND_Y, Math.max(1, x(f.duration) + 0.5), BAND_H);
      if (f.target.classIndex !== previous) {
        ctx.fillStyle = '#000';
        ctx.fillText(f.target.label, x(f.time) + 2, BAND_Y + BAND_H / 2);
        previous = f.target.classIndex;
      }
    }
  }

  /** Small maps: as many frames as fit, evenly spread, each with its heatmap over it. */
  private drawStrip(ctx: CanvasRenderingContext2D, r: ClipResult): void {
    const first = this.thumbnails[0];
    if (!first) return;
    const tw = Math.max(16, Math.round((first.width * STRIP_H) / first.height));
    const slots = Math.max(1, Math.floor(W / tw));
    for (let s = 0; s < slots; s++) {
      const i = Math.min(r.frames.length - 1, Math.floor(((s + 0.5) * r.frames.length) / slots));
      const thumb = this.thumbnails[i];
      if (!thumb) continue;
      ctx.drawImage(thumb, s * tw, STRIP_Y, tw, STRIP_H);
      const tile = heatmapTile(r.frames[i]!, this.colormap);
      const reg = r.frames[i]!.region;
      const sx = tw / r.size.width;
      const sy = STRIP_H / r.size.height;
      ctx.globalAlpha = 0.5;
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(tile, s * tw + reg.x * sx, STRIP_Y + reg.y * sy, reg.width * sx, reg.height * sy);
      ctx.globalAlpha = 1;
    }
  }

  private timeAt(clientX: number): number {
    const rect = this.canvas!.getBoundingClientRect();
    return Math.min(Math.max((clientX - rect.left) / rect.width, 0), 1) * (this.result?.duration ?? 0);
  }

  private onClick = (e: MouseEvent): void => this.seek(this.timeAt(e.clientX));

  private onKey = (e: KeyboardEvent): void => {
    const r = this.result;
    if (!r || (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight')) return;
    e.preventDefault();
    e.stopPropagation();
    const step = r.frames[0]?.duration ?? 0.04;
    this.seek(this.time + (e.key === 'ArrowLeft' ? -step : step));
  };

  private seek(time: number): void {
    this.dispatchEvent(new CustomEvent('seek', { detail: { time }, bubbles: true, composed: true }));
  }

  private export(kind: 'webm' | 'json' | 'csv'): void {
    this.dispatchEvent(new CustomEvent('clip-export', { detail: { kind }, bubbles: true, composed: true }));
  }
}

function classColour(classIndex: number): string {
  return `hsl(${(classIndex * 137.508) % 360} 70% 60%)`;
}

function heatmapTile(f: ClipFrame, colormap: ColormapName): OffscreenCanvas {
  const { width, height, data } = f.heatmap;
  const table = COLORMAP_TABLES[colormap];
  const cells = new ImageData(width, height);
  data.forEach((v, i) => {
    const c = Math.round(Math.min(Math.max(v, 0), 1) * 255) * 3;
    cells.data.set([table[c]!, table[c + 1]!, table[c + 2]!, 255], i * 4);
  });
  const tile = new OffscreenCanvas(width, height);
  tile.getContext('2d')!.putImageData(cells, 0, 0);
  return tile;
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-timeline': Timeline;
  }
}
