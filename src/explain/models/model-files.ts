import type * as tf from '@tensorflow/tfjs-core';
import type { ModelEntry } from '../../../models/registry.js';
import { WhyCamError } from '../errors.js';

/**
 * Reads one file of a model folder; resolves to null when the file does not exist. `names` lists
 * the files where that is known (picked files, a zip): how a `.onnx` file is found, whatever its name.
 */
export type ModelFileReader = ((fileName: string) => Promise<Uint8Array | null>) & { names?: readonly string[] };

interface WeightGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: WeightGroup[];
}

export interface VerifyOptions {
  /** Where the files are, as a person would name it ("models/mobilenet_v1_0.75_224"). */
  location: string;
  /**
   * Known sha256 (hex) of files; others are checked for presence and byte length only.
   * `readVerifiedEntry` takes the entry's when this is not given.
   */
  sha256?: Readonly<Record<string, string>>;
  /** What to do about a missing or damaged file ("Run: npm run models"). */
  fix: string;
  /** Called with bytes read so far and the total expected, for progress bars. */
  onProgress?: (done: number, total: number) => void;
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes one manifest entry occupies in the weight files (quantized entries store the quantized type). */
export function entryBytes(entry: tf.io.WeightsManifestEntry): number {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  const size = BYTES_PER_ELEMENT[dtype];
  if (size === undefined)
    throw new WhyCamError('unsupported-model', `Weight "${entry.name}" has unsupported type ${dtype}.`);
  return count * size;
}

export function parseModelJson(bytes: Uint8Array, where: string, fix: string): ModelJson {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new WhyCamError('model-corrupt', `${where}/model.json is not valid JSON (damaged or truncated).`, fix);
  }
  const m = json as Partial<ModelJson>;
  if (!m || typeof m.modelTopology !== 'object' || m.modelTopology === null || !Array.isArray(m.weightsManifest)) {
    throw new WhyCamError(
      'model-corrupt',
      `${where}/model.json is not a TF.js LayersModel (no modelTopology or weightsManifest).`,
      fix,
    );
  }
  return m as ModelJson;
}

/** Every weight file `model.json` names, with the bytes it must hold (for groups split over several files, the group's total). */
export function weightFiles(model: ModelJson): { paths: string[]; bytes: number }[] {
  return model.weightsManifest.map((g) => ({
    paths: g.paths,
    bytes: g.weights.reduce((n, w) => n + entryBytes(w), 0),
  }));
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Reads a LayersModel's files and checks them before tfjs sees them: every shard present with the
 * declared length, and each known sha256 matching. A problem names the file and the fix.
 */
export async function readVerifiedModel(read: ModelFileReader, options: VerifyOptions): Promise<tf.io.ModelArtifacts> {
  const { location, fix } = options;
  const jsonBytes = await read('model.json');
  if (!jsonBytes)
    throw new WhyCamError(
      'model-missing',
      `${location}/model.json is missing: the model has not been downloaded.`,
      fix,
    );
  await checkHash('model.json', jsonBytes, options);
  const model = parseModelJson(jsonBytes, location, fix);
  const groups = weightFiles(model);
  const total = groups.reduce((n, g) => n + g.bytes, 0);
  const chunks: Uint8Array[] = [];
  let done = 0;
  for (const group of groups) {
    let groupBytes = 0;
    for (const path of group.paths) {
      const data = await read(path);
      if (!data) throw new WhyCamError('model-missing', `${location}/${path} is missing.`, fix);
      if (group.paths.length === 1 && data.byteLength !== group.bytes) {
        throw new WhyCamError(
          'model-corrupt',
          `${location}/${path} holds ${data.byteLength} bytes; model.json declares ${group.bytes} (truncated or damaged).`,
          fix,
        );
      }
      await checkHash(path, data, options);
      groupBytes += data.byteLength;
      chunks.push(data);
      done += data.byteLength;
      options.onProgress?.(done, total);
    }
    if (groupBytes !== group.bytes) {
      throw new WhyCamError(
        'model-corrupt',
        `${location}/${group.paths.join(', ')} hold ${groupBytes} bytes; model.json declares ${group.bytes} (truncated or damaged).`,
        fix,
      );
    }
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    weightData.set(c, offset);
    offset += c.byteLength;
  }
  return {
    modelTopology: model.modelTopology,
    weightSpecs: model.weightsManifest.flatMap((g) => g.weights),
    weightData: weightData.buffer,
  };
}

/**
 * A registered model's files, every one checked: what an importer builds the network from.
 * caffe: the network definition as text, and every other file (weights/…) served from memory.
 */
export type VerifiedModelFiles =
  | { format: 'tfjs-layers'; artifacts: tf.io.ModelArtifacts }
  | { format: 'caffe'; prototxt: string; read: (path: string) => Promise<Uint8Array | null> }
  | { format: 'onnx'; bytes: Uint8Array };

/** The network definition in a caffe model folder (caffejs layout: `deploy.prototxt`, `weights/…`). */
export const CAFFE_NETWORK_FILE = 'deploy.prototxt';

/**
 * The file that says a model folder holds the model and is read first: tfjs-layers' model.json
 * (which lists the rest), caffe's deploy.prototxt, an ONNX model's one file (named as at its home).
 */
export function networkFile(entry: ModelEntry): string {
  switch (entry.format) {
    case 'tfjs-layers':
      return 'model.json';
    case 'caffe':
      return CAFFE_NETWORK_FILE;
    case 'onnx':
      return entry.url.slice(entry.url.lastIndexOf('/') + 1);
  }
}

/**
 * Whether a file path of a model folder is one WhyCam writes or serves: relative, `/`-separated,
 * word characters, dots and dashes, no segment starting with a dot (so no `..`, no hidden files).
 * A model.json from a mirror names its own shards; this keeps them inside the model's folder.
 */
export function isSafeModelPath(path: string): boolean {
  return /^(?:[\w-][\w.-]*\/)*[\w-][\w.-]*$/.test(path);
}

/** Files read at once: a browser opens about six connections to one host, and a disk keeps up. */
const PARALLEL_READS = 6;

/**
 * Reads and checks a registered model's files, in its format. tfjs-layers: as `readVerifiedModel`.
 * caffe: every file the entry lists (the keys of its sha256), each against its checksum, progress
 * by bytes against `entry.bytes`; a missing or damaged file is named, with the fix.
 */
export async function readVerifiedEntry(
  entry: ModelEntry,
  read: ModelFileReader,
  options: VerifyOptions,
): Promise<VerifiedModelFiles> {
  const checked = { ...options, sha256: options.sha256 ?? entry.sha256 };
  switch (entry.format) {
    case 'tfjs-layers':
      return { format: 'tfjs-layers', artifacts: await readVerifiedModel(read, checked) };
    case 'caffe': {
      const { first, read: readChecked } = await readVerifiedListed(CAFFE_NETWORK_FILE, entry.bytes, read, checked);
      return { format: 'caffe', prototxt: new TextDecoder().decode(first), read: readChecked };
    }
    case 'onnx': {
      const { first } = await readVerifiedListed(networkFile(entry), entry.bytes, read, checked);
      return { format: 'onnx', bytes: first };
    }
  }
}

/**
 * The files of a format whose entry lists every file (the keys of its sha256), each against its
 * checksum, the network file first; progress by bytes against `total`.
 */
async function readVerifiedListed(
  networkName: string,
  total: number,
  read: ModelFileReader,
  options: VerifyOptions & { sha256: Readonly<Record<string, string>> },
): Promise<{ first: Uint8Array; read: (path: string) => Promise<Uint8Array | null> }> {
  const { location, fix } = options;
  const files = Object.keys(options.sha256);
  const contents = new Map<string, Uint8Array>();
  let done = 0;
  const take = async (path: string, data: Uint8Array | null): Promise<void> => {
    if (!data) throw new WhyCamError('model-missing', `${location}/${path} is missing.`, fix);
    await checkHash(path, data, options);
    contents.set(path, data);
    done += data.byteLength;
    options.onProgress?.(done, Math.max(total, done));
  };
  if (!files.includes(networkName)) throw new Error(`internal: an entry without its ${networkName} listed`);
  // The network definition first, alone: without it nothing was downloaded, which says more than
  // the first of a hundred missing weight files would.
  const first = await read(networkName);
  if (!first) {
    throw new WhyCamError(
      'model-missing',
      `${location}/${networkName} is missing: the model has not been downloaded.`,
      fix,
    );
  }
  await take(networkName, first);
  const rest = files.filter((f) => f !== networkName);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    // Once one file has failed, the others are not read: the first problem is the one reported.
    while (!failed && next < rest.length) {
      const path = rest[next++]!;
      try {
        await take(path, await read(path));
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, rest.length) }, worker));
  return { first, read: (path) => Promise.resolve(contents.get(path) ?? null) };
}

async function checkHash(path: string, data: Uint8Array, options: VerifyOptions): Promise<void> {
  const expected = options.sha256?.[path];
  if (!expected) return;
  const actual = await sha256Hex(data);
  if (actual !== expected) {
    throw new WhyCamError(
      'model-corrupt',
      `${options.location}/${path} fails its checksum (sha256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…).`,
      options.fix,
    );
  }
}

/** A file the user picked (a browser `File`, or a Node `Blob` with a name). */
export interface PickedFile {
  name: string;
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The most a picked model file may weigh: bigger is not a MobileNet-sized classifier, and would exhaust memory. */
const MAX_MODEL_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Reads a model from files the user picked (model.json and its weight files, e.g. from a folder
 * picker), matched by file name. Sizes are checked before anything is read.
 */
export function pickedFilesReader(files: Iterable<PickedFile>): ModelFileReader {
  const byName = new Map<string, PickedFile>();
  for (const f of files) byName.set(f.name.split(/[\\/]/).pop()!, f);
  const read: ModelFileReader = async (name) => {
    const file = byName.get(name);
    if (!file) return null;
    if (file.size > MAX_MODEL_FILE_BYTES) {
      throw new WhyCamError(
        'model-corrupt',
        `${name} is ${(file.size / 2 ** 20).toFixed(0)} MiB; a model file may be at most ${MAX_MODEL_FILE_BYTES / 2 ** 20} MiB.`,
      );
    }
    return new Uint8Array(await file.arrayBuffer());
  };
  read.names = [...byName.keys()];
  return read;
}
