import fs from 'node:fs/promises';
import path from 'node:path';
import { homeFolderUrl, mirrorFolders, type ModelEntry } from '../../models/registry.js';
import { isWhyCamError, WhyCamError } from '../explain/errors.js';
import {
  networkFile,
  isSafeModelPath,
  parseModelJson,
  readVerifiedEntry,
  weightFiles,
} from '../explain/models/model-files.js';
import { fileReader } from './load-model.js';
import { formatBytes, ProgressBar } from './progress.js';

type ModelStatus = 'valid' | 'downloaded' | 'copied';

interface InstallOptions {
  /** The folder holding `<id>/model.json` etc. (normally `models/`). */
  dir: string;
  /**
   * A mirror with the same layout (`<mirror>/<id>/model.json`, …) to use instead of the models'
   * public home: a local folder, or an http(s) URL such as a school intranet server. A model with
   * a `mirrorFolder` is looked for under that name too.
   */
  mirror?: string;
  /** Seconds to wait for each file from the network. */
  timeoutSeconds?: number;
}

/** Where a model's files come from; `read` resolves to null for a file that is not there. */
type Source = { read(name: string): Promise<Uint8Array | null>; describe: string };

/** Files fetched at once: enough to hide the latency of a hundred small weight files, polite to a server. */
const PARALLEL_FETCHES = 4;

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
      if (response.status === 404) return null;
      if (!response.ok) throw new WhyCamError('network', `Downloading ${base + name} failed: HTTP ${response.status}.`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

function folderSource(folder: string): Source {
  return { describe: folder, read: fileReader(folder) };
}

/** The file whose presence says a folder holds the model (and, for tfjs-layers, lists the rest). */
function firstFile(entry: ModelEntry): string {
  return networkFile(entry);
}

/**
 * The source to install from, with its first file already read: the public home, or the mirror's
 * `<id>/` folder, else its `<mirrorFolder>/` (a mirror keeps its exports' own folder names).
 */
async function openSource(
  entry: ModelEntry,
  options: InstallOptions,
  timeout: number,
): Promise<{ source: Source; first: Uint8Array }> {
  const { mirror } = options;
  const candidates = !mirror
    ? [urlSource(homeFolderUrl(entry), timeout)]
    : mirrorFolders(entry).map((folder) =>
        isUrl(mirror)
          ? urlSource(`${mirror.replace(/\/+$/, '')}/${folder}/`, timeout)
          : folderSource(path.join(mirror, folder)),
      );
  const name = firstFile(entry);
  for (const source of candidates) {
    const first = await source.read(name);
    if (first) return { source, first };
  }
  const tried = candidates.map((c) => (isUrl(c.describe) ? c.describe + name : path.join(c.describe, name)));
  throw new WhyCamError(
    mirror ? 'model-missing' : 'network',
    mirror ? `The mirror has no ${tried.join(' nor ')}.` : `Downloading ${tried[0]} failed: HTTP 404.`,
  );
}

/** Whether `dir/<id>` holds a complete model whose files pass their checks; the problem if not. */
export async function checkInstalled(entry: ModelEntry, dir: string): Promise<string | null> {
  try {
    const folder = path.join(dir, entry.id);
    await readVerifiedEntry(entry, fileReader(folder), { location: folder, fix: '' });
    return null;
  } catch (e) {
    if (isWhyCamError(e)) return e.message.trim();
    throw e;
  }
}

/** Runs `task` on every item, at most `limit` at once; the first failure stops new ones and is thrown. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      try {
        await task(items[next++]!);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Makes `dir/<id>` a verified copy of the model: skips it if already valid, otherwise fetches every
 * file into a staging folder, verifies sizes and checksums there, and only then swaps it in, so an
 * interrupted download never leaves a half-written model behind. tfjs-layers: model.json and the
 * shards it names; caffe: every file of the entry's sha256 list, sub-folders included.
 */
export async function installModel(entry: ModelEntry, options: InstallOptions): Promise<ModelStatus> {
  if ((await checkInstalled(entry, options.dir)) === null) return 'valid';
  const timeout = options.timeoutSeconds ?? 60;
  const copied = !!options.mirror && !isUrl(options.mirror);
  const target = path.join(options.dir, entry.id);
  const staging = path.join(options.dir, `.${entry.id}.partial`);
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  try {
    const { source, first } = await openSource(entry, options, timeout);
    const fix = options.mirror
      ? `The mirror ${source.describe} is damaged or incomplete.`
      : 'Try again; if it persists the download is being altered on the way.';
    let names: string[];
    let total: number;
    if (entry.format !== 'tfjs-layers') {
      names = Object.keys(entry.sha256).filter((n) => n !== firstFile(entry));
      total = entry.bytes;
    } else {
      const groups = weightFiles(parseModelJson(first, source.describe, fix));
      names = groups.flatMap((g) => g.paths);
      total = groups.reduce((n, g) => n + g.bytes, 0);
    }
    // A model.json from a mirror names its own shards: none may write outside the staging folder.
    const unsafe = names.find((n) => !isSafeModelPath(n));
    if (unsafe !== undefined) {
      throw new WhyCamError('model-corrupt', `${source.describe} names a file "${unsafe}" outside its folder.`, fix);
    }
    const bar = new ProgressBar(entry.id, total, (d, t) => `${formatBytes(d)} / ${formatBytes(t)}`);
    const write = async (name: string, data: Uint8Array): Promise<void> => {
      const file = path.join(staging, name);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, data);
    };
    await write(firstFile(entry), first);
    let done = entry.format === 'tfjs-layers' ? 0 : first.byteLength;
    await eachLimited(names, PARALLEL_FETCHES, async (name) => {
      const data = await source.read(name);
      if (!data) {
        const where = isUrl(source.describe) ? source.describe + name : path.join(source.describe, name);
        throw new WhyCamError('model-missing', `${where} is missing.`, fix);
      }
      await write(name, data);
      done += data.byteLength;
      bar.update(done, name);
    });
    await readVerifiedEntry(entry, fileReader(staging), { location: source.describe, fix });
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
