import { msg, str } from '@lit/localize';
import { WhyCamError } from '../explain/errors.js';

const MAX_IMAGE_BYTES = 50 * 1024 * 1024;
const MAX_IMAGE_PIXELS = 50e6;
const DECODE_TIMEOUT_MS = 10_000;

/**
 * Decodes a photo the user opened, dropped or pasted, defensively: size-checked before decoding,
 * bounded in time and pixels after, so a bad or hostile file gives an error rather than a hang.
 */
export async function decodeImageFile(file: Blob & { name?: string }): Promise<ImageBitmap> {
  const name = file.name || msg('The pasted picture');
  if (file.type && !file.type.startsWith('image/')) {
    throw new WhyCamError(
      'bad-image',
      msg(str`${name} is not a picture (${file.type}).`),
      msg('Open a JPEG, PNG, WebP or GIF photo.'),
    );
  }
  if (file.size === 0) throw new WhyCamError('bad-image', msg(str`${name} is empty.`));
  if (file.size > MAX_IMAGE_BYTES) {
    throw new WhyCamError(
      'bad-image',
      msg(str`${name} is ${(file.size / 2 ** 20).toFixed(0)} MiB; the limit is ${MAX_IMAGE_BYTES / 2 ** 20} MiB.`),
    );
  }
  let timer = 0;
  const timeout = new Promise<never>((_, reject) => {
    timer = window.setTimeout(
      () => reject(new WhyCamError('bad-image', msg(str`${name} took too long to decode.`))),
      DECODE_TIMEOUT_MS,
    );
  });
  let bitmap: ImageBitmap;
  try {
    bitmap = await Promise.race([createImageBitmap(file, { imageOrientation: 'from-image' }), timeout]);
  } catch (e) {
    if (e instanceof WhyCamError) throw e;
    throw new WhyCamError(
      'bad-image',
      msg(str`${name} cannot be decoded as a picture.`),
      msg('The file may be damaged or in a format this browser does not read.'),
    );
  } finally {
    clearTimeout(timer);
  }
  if (bitmap.width * bitmap.height > MAX_IMAGE_PIXELS || bitmap.width < 8 || bitmap.height < 8) {
    const size = `${bitmap.width}×${bitmap.height}`;
    bitmap.close();
    throw new WhyCamError(
      'bad-image',
      msg(str`${name} is ${size} pixels; WhyCam takes pictures from 8×8 up to ${MAX_IMAGE_PIXELS / 1e6} megapixels.`),
    );
  }
  return bitmap;
}
