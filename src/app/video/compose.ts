import type { Heatmap } from '../../explain/methods/types.js';
import { overlayHeatmap } from '../../explain/render/overlay.js';
import type { Region } from '../../explain/runtime/crop.js';
import type { OverlayStyle } from '../heatmap-renderer.js';

/** One view to burn into a video frame: its picture, the map over it (if any) and its label. */
export interface ComposedView {
  picture: CanvasImageSource;
  sourceWidth: number;
  sourceHeight: number;
  overlay: { heatmap: Heatmap; region: Region } | null;
  label: string;
}

export interface Composition {
  views: ComposedView[];
  style: OverlayStyle;
  mirror: boolean;
  /** A white band above the pictures ("<label> (<score>) — <method>, layer <layer>"). */
  title?: string;
  /** The HUD line, at the bottom left of the first view. */
  hud?: string;
}

/** The canvas size for views of this source size side by side (width per view capped, even numbers for the encoder). */
export function compositionSize(
  source: { width: number; height: number },
  views: number,
  title: boolean,
  maxWidth = 1280,
): { width: number; height: number; viewWidth: number; viewHeight: number; band: number } {
  const viewWidth = Math.min(source.width, maxWidth) & ~1;
  const viewHeight = Math.round((source.height * viewWidth) / source.width) & ~1;
  const band = title ? bandFor(viewWidth) : 0;
  return { width: viewWidth * views, height: viewHeight + band, viewWidth, viewHeight, band };
}

/** The title band's height for views this wide (as the saved PNG's). */
function bandFor(viewWidth: number): number {
  return Math.round(Math.max(14, Math.min(viewWidth / 24, 40)) * 1.8) & ~1;
}

/**
 * Draws the views as the screen shows them — the picture with the heatmap blended exactly as the
 * saved PNG and the CLI do, the label, the HUD line, a title band — into the canvas, sized by
 * `compositionSize` beforehand.
 */
export function compose(canvas: HTMLCanvasElement | OffscreenCanvas, c: Composition): void {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
  const w = Math.floor(canvas.width / c.views.length);
  const band = c.title ? bandFor(w) : 0;
  const h = canvas.height - band;
  const scratch = new OffscreenCanvas(w, h);
  const sctx = scratch.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, band);
  c.views.forEach((view, k) => {
    sctx.setTransform(1, 0, 0, 1, 0, 0);
    if (c.mirror) sctx.setTransform(-1, 0, 0, 1, w, 0);
    sctx.drawImage(view.picture, 0, 0, w, h);
    if (view.overlay) {
      const scale = w / view.sourceWidth;
      const r = view.overlay.region;
      const region = { x: r.x * scale, y: r.y * scale, width: r.width * scale, height: r.height * scale };
      const mirrored = c.mirror ? { ...region, x: w - region.x - region.width } : region;
      const pixels = sctx.getImageData(0, 0, w, h);
      const heatmap = c.mirror ? mirrorHeatmap(view.overlay.heatmap) : view.overlay.heatmap;
      const blended = overlayHeatmap(pixels, heatmap, roundRegion(mirrored), style(c.style));
      sctx.putImageData(new ImageData(new Uint8ClampedArray(blended.data), w, h), 0, 0);
    }
    ctx.drawImage(scratch, k * w, band);
    const fontSize = Math.max(12, Math.round(w / 32));
    if (view.label) textBox(ctx, view.label, k * w + fontSize * 0.5, band + fontSize * 0.5, fontSize, 'top');
    if (k === 0 && c.hud) textBox(ctx, c.hud, fontSize * 0.5, band + h - fontSize * 0.5, fontSize * 0.8, 'bottom');
  });
  if (c.title) {
    const titleSize = Math.round(band / 1.8);
    ctx.fillStyle = '#000';
    ctx.font = `${titleSize}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(c.title, canvas.width / 2, band / 2, canvas.width - 8);
    ctx.textAlign = 'start';
  }
}

function style(s: OverlayStyle) {
  return { colormap: s.colormap, alpha: s.alpha, threshold: s.threshold, dimOutside: s.dimOutside };
}

function roundRegion(r: Region): Region {
  return { x: Math.round(r.x), y: Math.round(r.y), width: Math.round(r.width), height: Math.round(r.height) };
}

function mirrorHeatmap(h: Heatmap): Heatmap {
  const data = new Float32Array(h.data.length);
  for (let y = 0; y < h.height; y++)
    for (let x = 0; x < h.width; x++) data[y * h.width + x] = h.data[y * h.width + (h.width - 1 - x)]!;
  return { width: h.width, height: h.height, data };
}

/** White text on a dark box, as the view's label and HUD line are drawn. */
function textBox(
  ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D,
  text: string,
  x: number,
  y: number,
  size: number,
  baseline: 'top' | 'bottom',
): void {
  ctx.font = `600 ${size}px system-ui, sans-serif`;
  const pad = size * 0.3;
  const width = ctx.measureText(text).width;
  const top = baseline === 'top' ? y : y - size - 2 * pad;
  ctx.fillStyle = 'rgba(0,0,0,0.65)';
  ctx.fillRect(x, top, width + 2 * pad, size + 2 * pad);
  ctx.fillStyle = '#fff';
  ctx.textBaseline = 'top';
  ctx.fillText(text, x + pad, top + pad);
}
