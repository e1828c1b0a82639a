import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelEntry } from '../../models/registry.js';
import { isWhyCamError, WhyCamError } from '../explain/errors.js';
import { parseModelJson, readVerifiedModel, weightFiles } from '../explain/models/model-files.js';
import { fileReader } from './load-model.js';
import { formatBytes, ProgressBar } from './progress.js';

type ModelStatus = 'valid' | 'downloaded' | 'copied';

interface InstallOptions {
  /** The folder holding `<id>/model.json` etc. (normally `models/`). */
  dir: string;
  /**
   * A mirror with the same layout (`<mirror>/<id>/model.json`, …) to use instead of the models'
   * public home: a local folder, or an http(s) URL such as a school intranet server.
   */
  mirror?: string;
  /** Seconds to wait for each file from the network. */
  timeoutSeconds?: number;
}

type Source = { read(name: string): Promise<Uint8Array>; describe: string };

export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function urlSource(base: string, timeoutSeconds: number): Source {
  return {
    describe: base,
    async read(name) {
      let response: Response;
      try {
        response = await fetch(base + name, { signal: AbortSignal.timeout(timeoutSeconds * 1000) });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (e as Error).message;
        throw new WhyCamError('network', `Cannot download ${base + name} (${why}).`);
      }
      if (!response.ok) throw new WhyCamError('network', `Downloading ${base + name} failed: HTTP ${response.status}.`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

function mirrorSource(entry: ModelEntry, mirror: string): Source {
  const folder = path.join(mirror, entry.id);
  const read = fileReader(folder);
  return {
    describe: folder,
    async read(name) {
      const data = await read(name);
      if (!data) throw new WhyCamError('model-missing', `The mirror has no ${path.join(folder, name)}.`);
      return data;
    },
  };
}

/** Whether `dir/<id>` holds a complete model whose files pass their checks; the problem if not. */
export async function checkInstalled(entry: ModelEntry, dir: string): Promise<string | null> {
  try {
    await readVerifiedModel(fileReader(path.join(dir, entry.id)), {
      location: path.join(dir, entry.id),
      sha256: entry.sha256,
      fix: '',
    });
    return null;
  } catch (e) {
    if (isWhyCamError(e)) return e.message.trim();
    throw e;
  }
}

/**
 * Makes `dir/<id>` a verified copy of the model: skips it if already valid, otherwise fetches every
 * file into a staging folder, verifies sizes and checksums there, and only then swaps it in, so an
 * interrupted download never leaves a half-written model behind.
 */
export async function installModel(entry: ModelEntry, options: InstallOptions): Promise<ModelStatus> {
  if ((await checkInstalled(entry, options.dir)) === null) return 'valid';
  const timeout = options.timeoutSeconds ?? 60;
  const source = !options.mirror
    ? urlSource(entry.url.slice(0, entry.url.lastIndexOf('/') + 1), timeout)
    : isUrl(options.mirror)
      ? urlSource(`${options.mirror.replace(/\/+$/, '')}/${entry.id}/`, timeout)
      : mirrorSource(entry, options.mirror);
  const copied = !!options.mirror && !isUrl(options.mirror);
  const target = path.join(options.dir, entry.id);
  const staging = path.join(options.dir, `.${entry.id}.partial`);
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  try {
    const modelJson = await source.read('model.json');
    const fix = options.mirror
      ? `The mirror ${source.describe} is damaged or incomplete.`
      : 'Try again; if it persists the download is being altered on the way.';
    const groups = weightFiles(parseModelJson(modelJson, source.describe, fix));
    const total = groups.reduce((n, g) => n + g.bytes, 0);
    const bar = new ProgressBar(entry.id, total, (d, t) => `${formatBytes(d)} / ${formatBytes(t)}`);
    await fs.writeFile(path.join(staging, 'model.json'), modelJson);
    let done = 0;
    for (const name of groups.flatMap((g) => g.paths)) {
      const data = await source.read(name);
      await fs.writeFile(path.join(staging, name), data);
      done += data.byteLength;
      bar.update(done, name);
    }
    await readVerifiedModel(fileReader(staging), { location: source.describe, sha256: entry.sha256, fix });
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(staging, target);
    bar.finish(
      `${entry.id}: ${copied ? 'copied' : 'downloaded'} ${formatBytes(total)} from ${source.describe}, verified.`,
    );
    return copied ? 'copied' : 'downloaded';
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
