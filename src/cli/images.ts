import fs from 'node:fs/promises';
import path from 'node:path';
import { WhyCamError } from '../explain/errors.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

/** Files named on the command line, folders expanded to the images they hold (sorted); all checked before any work. */
export async function collectImages(inputs: readonly string[]): Promise<string[]> {
  if (inputs.length === 0)
    throw new WhyCamError('bad-option', 'No image given.', 'Name one or more JPEG, PNG or WebP files or folders.');
  const files: string[] = [];
  for (const input of inputs) {
    let stat;
    try {
      stat = await fs.stat(input);
    } catch {
      throw new WhyCamError('bad-image', `${input} does not exist.`);
    }
    if (stat.isDirectory()) {
      const names = (await fs.readdir(input)).filter((n) => IMAGE_EXTENSIONS.has(path.extname(n).toLowerCase())).sort();
      if (names.length === 0)
        throw new WhyCamError('bad-image', `The folder ${input} holds no .jpg, .png or .webp picture.`);
      files.push(...names.map((n) => path.join(input, n)));
    } else {
      files.push(input);
    }
  }
  return files;
}
