import { createRequire } from 'node:module';
import * as PImage from 'pureimage';
import type { RgbaImage } from '../explain/runtime/input.js';

const FAMILY = 'WhyCam DejaVu Sans';

function loadFont(): void {
  if (PImage.debug_list_of_fonts[FAMILY]?.loaded) return;
  const require = createRequire(import.meta.url);
  PImage.registerFont(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'), FAMILY).loadSync();
}

/**
 * The picture under a white title band, like a MATLAB figure: the title ("golden retriever (0.78)")
 * large, and a smaller subtitle line (method, layer) under it.
 */
export function withTitle(image: RgbaImage, title: string, subtitle: string): RgbaImage {
  loadFont();
  const titleSize = Math.max(14, Math.round(Math.min(image.width / 22, 40)));
  const subtitleSize = Math.max(11, Math.round(titleSize * 0.6));
  const band = Math.round(titleSize * 1.5 + subtitleSize * 1.6);
  const canvas = PImage.make(image.width, image.height + band);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, image.width, band);
  ctx.textAlign = 'center';
  ctx.fillStyle = '#000000';
  ctx.font = `${titleSize}px '${FAMILY}'`;
  ctx.fillText(title, image.width / 2, Math.round(titleSize * 1.2));
  ctx.fillStyle = '#444444';
  ctx.font = `${subtitleSize}px '${FAMILY}'`;
  ctx.fillText(subtitle, image.width / 2, Math.round(titleSize * 1.3 + subtitleSize * 1.2));
  const data = new Uint8Array(canvas.data.buffer, canvas.data.byteOffset, canvas.data.byteLength);
  data.set(image.data, image.width * band * 4);
  return { width: image.width, height: image.height + band, data };
}
