import { unzipSync } from 'fflate';
import { WhyCamError } from '../errors.js';
import type { ModelFileReader } from './model-files.js';

/** Whether the bytes start like a zip archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/**
 * Reads the files of a zip archive (Teachable Machine's download, or an exported taught model) by
 * their base name, wherever they sit in the archive: an archive of a folder works like one of its files.
 */
export function zipReader(bytes: Uint8Array, location: string): ModelFileReader {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (file) => !file.name.endsWith('/') && !file.name.startsWith('__MACOSX/') });
  } catch (e) {
    throw new WhyCamError(
      'model-corrupt',
      `${location} is not a readable zip archive (${(e as Error).message}).`,
      'Download the export again, or pick its files (model.json, weights.bin, metadata.json) instead of the zip.',
    );
  }
  const byName = new Map<string, Uint8Array>();
  for (const [path, data] of Object.entries(entries)) {
    const name = path.split('/').pop()!;
    if (byName.has(name)) {
      throw new WhyCamError('model-corrupt', `${location} holds more than one ${name}.`, 'Zip one model per archive.');
    }
    byName.set(name, data);
  }
  const read: ModelFileReader = (name) => Promise.resolve(byName.get(name) ?? null);
  read.names = [...byName.keys()];
  return read;
}
