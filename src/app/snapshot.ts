import type { Heatmap } from '../explain/methods/types.js';
import { overlayHeatmap } from '../explain/render/overlay.js';
import type { Region } from '../explain/runtime/crop.js';
import type { OverlayStyle } from './heatmap-renderer.js';
import { withPngText } from './png-text.js';
import { methodCaption } from './i18n/method-caption.js';
import type { ResultMessage } from '../protocol.js';
import type { BoardPicture } from './lessons/lesson-progress.js';

/**
 * The current view as a PNG: the picture at its own resolution with the heatmap blended exactly
 * as the CLI does, under a title band "<label> (<score>) — <method>", which the file's Title text chunk repeats.
 */
async function snapshotPng(
  source: { image: CanvasImageSource; width: number; height: number },
  heatmap: Heatmap,
  region: Region,
  style: OverlayStyle,
  title: string,
  mirror: boolean,
): Promise<Blob> {
  const { width, height } = source;
  const picture = new OffscreenCanvas(width, height);
  const pctx = picture.getContext('2d')!;
  pctx.drawImage(source.image, 0, 0, width, height);
  const pixels = pctx.getImageData(0, 0, width, height);
  const blended = overlayHeatmap(pixels, heatmap, region, {
    colormap: style.colormap,
    alpha: style.alpha,
    threshold: style.threshold,
    dimOutside: style.dimOutside,
  });
  pctx.putImageData(new ImageData(new Uint8ClampedArray(blended.data), width, height), 0, 0);

  const titleSize = Math.max(14, Math.round(Math.min(width / 24, 40)));
  const band = Math.round(titleSize * 1.8);
  const out = new OffscreenCanvas(width, height + band);
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, band);
  ctx.fillStyle = '#000';
  ctx.font = `${titleSize}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(title, width / 2, band / 2, width - 8);
  if (mirror) {
    ctx.translate(width, 0);
    ctx.scale(-1, 1);
  }
  ctx.drawImage(picture, 0, band);
  const png = new Uint8Array(await (await out.convertToBlob({ type: 'image/png' })).arrayBuffer());
  return new Blob([withPngText(png, 'Title', title) as Uint8Array<ArrayBuffer>], { type: 'image/png' });
}

/** Saves the view as "whycam-<label>-<method>.png" through the browser's download. */
async function downloadSnapshot(
  source: { image: CanvasImageSource; width: number; height: number },
  heatmap: Heatmap,
  region: Region,
  style: OverlayStyle,
  mirror: boolean,
  target: { label: string; score: number },
  method: { id: string; name: string },
): Promise<void> {
  const title = `${target.label} (${target.score.toFixed(2)}) — ${method.name}`;
  const blob = await snapshotPng(source, heatmap, region, style, title, mirror);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `whycam-${target.label.replace(/[^\w-]+/g, '_')}-${method.id.replace('++', 'pp')}.png`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Downloads the picture with a result's heatmap over it, titled with its class and method. */
export function saveSnapshot(
  source: { image: CanvasImageSource; width: number; height: number },
  r: Pick<ResultMessage, 'heatmap' | 'region' | 'target' | 'method' | 'layer'>,
  style: OverlayStyle,
  mirror: boolean,
): Promise<void> {
  return downloadSnapshot(source, r.heatmap, r.region, style, mirror, r.target, {
    id: r.method,
    name: methodCaption(r.method, r.layer),
  });
}

/** The longest side of a picture kept on a lesson's board: small enough for the device's local storage. */
const BOARD_SIDE = 320;

/**
 * The view with its map, small, and what it shows, for a lesson's board and worksheet; null when
 * nothing is explained yet.
 */
export async function boardPicture(
  source: { image: CanvasImageSource; width: number; height: number } | null | undefined,
  r: Pick<ResultMessage, 'heatmap' | 'region' | 'target' | 'method' | 'layer'> | null,
  style: OverlayStyle,
  mirror: boolean,
): Promise<BoardPicture | null> {
  if (!source || !r) return null;
  const image = await boardJpeg(source, r, style, mirror);
  const { label, score } = r.target;
  return { image, label, score, method: methodCaption(r.method, r.layer), at: Date.now() };
}

/** The view with its map as a small JPEG data URL. */
async function boardJpeg(
  source: { image: CanvasImageSource; width: number; height: number },
  r: Pick<ResultMessage, 'heatmap' | 'region'>,
  style: OverlayStyle,
  mirror: boolean,
): Promise<string> {
  const scale = Math.min(1, BOARD_SIDE / Math.max(source.width, source.height));
  const width = Math.max(1, Math.round(source.width * scale));
  const height = Math.max(1, Math.round(source.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(source.image, 0, 0, width, height);
  const at = (v: number): number => Math.round(v * scale);
  const region = { x: at(r.region.x), y: at(r.region.y), width: at(r.region.width), height: at(r.region.height) };
  const blended = overlayHeatmap(ctx.getImageData(0, 0, width, height), r.heatmap, region, {
    colormap: style.colormap,
    alpha: style.alpha,
    threshold: style.threshold,
    dimOutside: style.dimOutside,
  });
  ctx.putImageData(new ImageData(new Uint8ClampedArray(blended.data), width, height), 0, 0);
  if (mirror) {
    // As the view shows it: the blended picture flipped, as saveSnapshot does.
    ctx.globalCompositeOperation = 'copy';
    ctx.translate(width, 0);
    ctx.scale(-1, 1);
    ctx.drawImage(canvas, 0, 0);
  }
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error ?? new Error('the picture could not be read back'));
    reader.readAsDataURL(blob);
  });
}
