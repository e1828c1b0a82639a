import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { defaultView, findModel, homeFolderUrl, mirrorFolders, MODELS } from '../../models/registry.js';
import { readVerifiedEntry } from '../../src/explain/models/model-files.js';
import { inputRangeOf } from '../../src/explain/network/normalization.js';
import { fileReader } from '../../src/node/load-model.js';
import { checkInstalled, installModel } from '../../src/node/model-store.js';
import { modelsPlugin } from '../../scripts/vite-models.js';
import { genuineModelFiles } from '../../workers/model-cache.js';
import { fetchExplainer } from '../../workers/model-loader.js';
import { SHARED_MODELS } from '../helpers/shared.js';

// The zoo models (GoogLeNet and SqueezeNet 1.1 in caffejs layout, DenseNet-121 as a LayersModel,
// MobileNet V2 as one ONNX file)
// through every path that fetches, verifies and installs them, from the ../shared/models mirror.

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'whycam-zoo-'));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));
afterEach(() => vi.unstubAllGlobals());

const googlenet = findModel('googlenet')!;
const squeezenet = findModel('squeezenet1.1')!;
const densenet = findModel('densenet121')!;
const mobilenetv2 = findModel('mobilenetv2')!;
const ZOO = [googlenet, squeezenet, densenet, mobilenetv2];
const fresh = async (name: string) => fs.mkdtemp(path.join(tmp, `${name}-`));

/** The mirror's `SHA256/<folder>.sha256` list (`sha256sum` output, `./`-prefixed paths) as path → hash. */
async function mirrorList(folder: string): Promise<Record<string, string>> {
  const text = await fs.readFile(path.join(SHARED_MODELS, 'SHA256', `${folder}.sha256`), 'utf8');
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => {
        const [hash, file] = line.split(/\s+/);
        return [file!.replace(/^\.\//, ''), hash!];
      }),
  );
}

/** A googlenet folder installed once from the mirror, shared by the read-only tests below. */
let installed: string;
beforeAll(async () => {
  installed = await fresh('googlenet');
  await installModel(googlenet, { dir: installed, mirror: SHARED_MODELS });
});

describe('the zoo models in the registry', () => {
  test('are registered on request, each with its format, input and layers', () => {
    expect(MODELS.map((m) => m.id).slice(-4)).toEqual(['googlenet', 'squeezenet1.1', 'densenet121', 'mobilenetv2']);
    expect(googlenet).toMatchObject({
      format: 'caffe',
      inputSize: [224, 224],
      normalize: 'caffe',
      logitLayer: 'loss3/classifier',
      softmaxLayer: 'prob',
      featureLayer: 'inception_5b/output',
      mirrorFolder: 'bvlc_googlenet_caffejs',
    });
    expect(squeezenet).toMatchObject({
      format: 'caffe',
      inputSize: [227, 227],
      logitLayer: 'pool10',
      camLayer: 'relu_conv10',
    });
    expect(densenet).toMatchObject({
      format: 'tfjs-layers',
      normalize: 'imagenet',
      logitLayer: 'fc1000',
      softmaxLayer: 'fc1000/softmax',
      featureLayer: 'bn',
    });
    expect(mobilenetv2).toMatchObject({
      format: 'onnx',
      normalize: 'imagenet',
      logitLayer: 'Gemm_104_MatMul',
      softmaxLayer: null,
      featureLayer: 'Conv_95',
      camLayer: 'Conv_95',
      mirrorFolder: 'mobilenetv2-12-int8_onnx',
    });
    const viewLayer: Record<string, string> = { googlenet: 'inception_4e/output', mobilenetv2: 'Conv_73' };
    for (const m of ZOO) {
      expect(m.fetch).toBe('on-request');
      // Chosen by the README's rule among the maps that pass the sanity check (docs/zoo/).
      expect(defaultView(m.id)).toEqual({
        method: 'hirescam',
        layer: viewLayer[m.id] ?? m.featureLayer,
        reduction: 'logit',
      });
      // Public homes pinned to a commit, so that the checksums below stay true.
      expect(homeFolderUrl(m)).toMatch(/^https:\/\/raw\.githubusercontent\.com\/[\w-]+\/[\w-]+\/[0-9a-f]{40}\/.+\/$/);
      expect(mirrorFolders(m)).toEqual([m.id, m.mirrorFolder]);
    }
    expect(homeFolderUrl(densenet) + 'model.json').toBe(densenet.url);
  });

  test('every entry scales its input as its normalisation says', () => {
    for (const m of MODELS) expect(m.inputRange, m.id).toEqual(inputRangeOf(m.normalize));
  });

  test.each(ZOO.map((m) => [m.id, m] as const))(
    "%s lists every file of the mirror's SHA256 list with its checksum, and their total size",
    async (_, m) => {
      expect({ ...m.sha256 }).toEqual(await mirrorList(m.mirrorFolder!));
      let bytes = 0;
      for (const file of Object.keys(m.sha256))
        bytes += (await fs.stat(path.join(SHARED_MODELS, m.mirrorFolder!, file))).size;
      expect(m.bytes).toBe(bytes);
    },
  );
});

describe('npm run models -- --model <zoo model>', () => {
  test('copies GoogLeNet from its mirror folder, sub-folders and all, and then finds it valid', async () => {
    expect(await checkInstalled(googlenet, installed)).toBeNull();
    const folder = path.join(installed, 'googlenet');
    expect((await fs.stat(path.join(folder, 'weights/inception_4c/5x5_filter.bin'))).size).toBe(64 * 5 * 5 * 24 * 4); // (out, kh, kw, in) float32
    expect(await installModel(googlenet, { dir: installed, mirror: SHARED_MODELS })).toBe('valid');
    expect(await fs.readdir(installed)).toEqual(['googlenet']); // no staging folder left behind
  });

  test('copies DenseNet-121 (a LayersModel with 241 shards) and finds it valid', async () => {
    const dir = await fresh('densenet');
    expect(await checkInstalled(densenet, dir)).toMatch(/model\.json is missing/);
    expect(await installModel(densenet, { dir, mirror: SHARED_MODELS })).toBe('copied');
    expect(await checkInstalled(densenet, dir)).toBeNull();
    const files = await readVerifiedEntry(densenet, fileReader(path.join(dir, 'densenet121')), {
      location: dir,
      fix: '',
    });
    if (files.format !== 'tfjs-layers') throw new Error('expected a LayersModel');
    expect(files.artifacts.weightData).toBeInstanceOf(ArrayBuffer);
    expect(files.artifacts.weightSpecs!.some((w) => w.name.startsWith('fc1000'))).toBe(true);
  });

  test('copies MobileNet V2 (one .onnx file) and finds it valid; a flipped byte in it is named', async () => {
    const dir = await fresh('mobilenetv2');
    expect(await checkInstalled(mobilenetv2, dir)).toMatch(/mobilenetv2-12-int8\.onnx is missing/);
    expect(await installModel(mobilenetv2, { dir, mirror: SHARED_MODELS })).toBe('copied');
    expect(await checkInstalled(mobilenetv2, dir)).toBeNull();
    const file = path.join(dir, 'mobilenetv2', 'mobilenetv2-12-int8.onnx');
    const files = await readVerifiedEntry(mobilenetv2, fileReader(path.dirname(file)), { location: dir, fix: '' });
    if (files.format !== 'onnx') throw new Error('expected an ONNX file');
    expect(files.bytes.byteLength).toBe(mobilenetv2.bytes);
    const bytes = await fs.readFile(file);
    bytes[1000]! ^= 1;
    await fs.writeFile(file, bytes);
    expect(await checkInstalled(mobilenetv2, dir)).toMatch(/mobilenetv2-12-int8\.onnx fails its checksum/);
  });

  test('downloads SqueezeNet 1.1 over http, finding it under its mirror folder name', async () => {
    const requested: string[] = [];
    const server = http.createServer((req, res) => {
      const url = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
      requested.push(url);
      fs.readFile(path.join(SHARED_MODELS, url)).then(
        (data) => res.end(data),
        () => {
          res.statusCode = 404;
          res.end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const dir = await fresh('squeezenet-http');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect(await installModel(squeezenet, { dir, mirror: url })).toBe('downloaded');
      expect(await checkInstalled(squeezenet, dir)).toBeNull();
      // <mirror>/<id>/ first, then <mirror>/<mirrorFolder>/.
      expect(requested.slice(0, 2)).toEqual([
        '/squeezenet1.1/deploy.prototxt',
        '/squeezenet1.1_caffejs/deploy.prototxt',
      ]);
    } finally {
      server.close();
    }
  });

  test('a mirror with a damaged weight file is refused, naming it, and leaves nothing half-written', async () => {
    const mirror = await fresh('bad-mirror');
    await fs.cp(path.join(SHARED_MODELS, 'squeezenet1.1_caffejs'), path.join(mirror, 'squeezenet1.1_caffejs'), {
      recursive: true,
    });
    const damaged = path.join(mirror, 'squeezenet1.1_caffejs', 'weights', 'fire5', 'squeeze1x1_filter.bin');
    await fs.chmod(damaged, 0o644);
    await fs.truncate(damaged, 100);
    const dir = await fresh('target');
    await expect(installModel(squeezenet, { dir, mirror })).rejects.toMatchObject({
      code: 'model-corrupt',
      message: expect.stringMatching(
        /squeezenet1\.1_caffejs\/weights\/fire5\/squeeze1x1_filter\.bin fails its checksum/,
      ),
    });
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

describe('readVerifiedEntry on a caffe model', () => {
  test('returns the prototxt and serves every weight file from memory, with progress by bytes', async () => {
    const progress: [number, number][] = [];
    const files = await readVerifiedEntry(googlenet, fileReader(path.join(installed, 'googlenet')), {
      location: 'models/googlenet',
      fix: 'Run: npm run models -- --model googlenet',
      onProgress: (done, total) => progress.push([done, total]),
    });
    if (files.format !== 'caffe') throw new Error('expected a caffe model');
    expect(files.prototxt).toMatch(/name: "inception_5b\/output"/);
    const classifier = await files.read('weights/loss3/classifier_filter.bin');
    expect(classifier?.byteLength).toBe(1000 * 1024 * 4);
    expect(await files.read('weights/not-there.bin')).toBeNull();
    expect(progress).toHaveLength(Object.keys(googlenet.sha256).length);
    expect(progress.at(-1)).toEqual([googlenet.bytes, googlenet.bytes]);
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThan(progress[i - 1]![0]);
  });

  test('a flipped byte in one weight file is named by its path, with the fix', async () => {
    const dir = await fresh('flipped');
    await fs.cp(path.join(installed, 'googlenet'), path.join(dir, 'googlenet'), { recursive: true });
    const file = path.join(dir, 'googlenet', 'weights', 'inception_4c', '5x5_filter.bin');
    const bytes = await fs.readFile(file);
    bytes[1234]! ^= 0x01;
    await fs.writeFile(file, bytes);
    expect(await checkInstalled(googlenet, dir)).toMatch(/weights\/inception_4c\/5x5_filter\.bin fails its checksum/);
    await expect(
      readVerifiedEntry(googlenet, fileReader(path.join(dir, 'googlenet')), {
        location: 'models/googlenet',
        fix: 'Run: npm run models -- --model googlenet',
      }),
    ).rejects.toMatchObject({
      code: 'model-corrupt',
      message: expect.stringMatching(
        /models\/googlenet\/weights\/inception_4c\/5x5_filter\.bin fails its checksum[\s\S]*npm run models -- --model googlenet/,
      ),
    });
    expect(await installModel(googlenet, { dir, mirror: SHARED_MODELS })).toBe('copied'); // repaired
  });

  test('a missing weight file, or a model never downloaded, is named with the fix', async () => {
    const dir = await fresh('missing');
    await fs.cp(path.join(installed, 'googlenet'), path.join(dir, 'googlenet'), { recursive: true });
    await fs.rm(path.join(dir, 'googlenet', 'weights', 'conv2', '3x3_bias.bin'));
    const options = { location: 'models/googlenet', fix: 'Run: npm run models -- --model googlenet' };
    await expect(readVerifiedEntry(googlenet, fileReader(path.join(dir, 'googlenet')), options)).rejects.toMatchObject({
      code: 'model-missing',
      message: expect.stringMatching(
        /models\/googlenet\/weights\/conv2\/3x3_bias\.bin is missing[\s\S]*--model googlenet/,
      ),
    });
    await expect(
      readVerifiedEntry(squeezenet, fileReader(path.join(dir, 'squeezenet1.1')), options),
    ).rejects.toMatchObject({
      code: 'model-missing',
      message: expect.stringMatching(/deploy\.prototxt is missing: the model has not been downloaded/),
    });
  });
});

describe('the app loading a zoo model from its origin', () => {
  /** A fetch that serves `root` at http://app/models/, the way the dev server or the build does. */
  const serveFrom = (root: string) =>
    vi.fn(async (url: string) => {
      const file = path.join(root, decodeURIComponent(new URL(url).pathname.replace(/^\/models\//, '')));
      try {
        return new Response(await fs.readFile(file), { headers: { 'content-type': 'application/octet-stream' } });
      } catch {
        return new Response('not found', { status: 404 });
      }
    });

  test('an on-request model the server lacks says which command installs it', async () => {
    vi.stubGlobal('fetch', serveFrom(await fresh('empty')));
    await expect(fetchExplainer('googlenet', 'http://app/models', () => undefined)).rejects.toMatchObject({
      code: 'model-missing',
      message: expect.stringMatching(/http:\/\/app\/models\/googlenet\/deploy\.prototxt is missing/),
      hint: expect.stringContaining('npm run models -- --model googlenet'),
    });
  });

  test('an altered file is named, progress is in percent, and the cached copies are forgotten', async () => {
    const dir = await fresh('served');
    await fs.cp(path.join(installed, 'googlenet'), path.join(dir, 'googlenet'), { recursive: true });
    const file = path.join(dir, 'googlenet', 'weights', 'loss3', 'classifier_bias.bin');
    const bytes = await fs.readFile(file);
    bytes[0]! ^= 0x80;
    await fs.writeFile(file, bytes);
    vi.stubGlobal('fetch', serveFrom(dir));
    const cached = new Map([
      ['http://app/models/googlenet/weights/loss3/classifier_bias.bin', 'whycam-models-abc'],
      ['http://app/models/mobilenet_v1_0.75_224/model.json', 'whycam-models-abc'],
    ]);
    const cache = {
      keys: () => Promise.resolve([...cached.keys()].map((url) => ({ url }))),
      delete: (r: { url: string }) => Promise.resolve(cached.delete(r.url)),
    };
    vi.stubGlobal('caches', { keys: () => Promise.resolve(['whycam-models-abc']), open: () => Promise.resolve(cache) });
    vi.stubGlobal('self', { location: { href: 'http://app/' } });
    const texts: string[] = [];
    await expect(fetchExplainer('googlenet', 'http://app/models', (t) => texts.push(t))).rejects.toMatchObject({
      code: 'model-corrupt',
      message: expect.stringMatching(/googlenet\/weights\/loss3\/classifier_bias\.bin fails its checksum/),
    });
    expect(texts[0]).toMatch(/^Loading GoogLeNet \(BVLC, 224\): \d+%$/);
    // This model's files are fetched afresh next time; other models' cached files stay.
    expect([...cached.keys()]).toEqual(['http://app/models/mobilenet_v1_0.75_224/model.json']);
  });
});

describe('serving and shipping the zoo models', () => {
  /** A copy of the installed GoogLeNet beside a SqueezeNet with one damaged file, as in models/. */
  const modelsFolder = async (): Promise<string> => {
    const dir = await fresh('app-models');
    await fs.cp(path.join(installed, 'googlenet'), path.join(dir, 'googlenet'), { recursive: true });
    await fs.cp(path.join(SHARED_MODELS, 'squeezenet1.1_caffejs'), path.join(dir, 'squeezenet1.1'), {
      recursive: true,
    });
    const damaged = path.join(dir, 'squeezenet1.1', 'weights', 'conv10_bias.bin');
    await fs.chmod(damaged, 0o644);
    await fs.truncate(damaged, 10);
    return dir;
  };

  test('the dev and preview servers serve sub-folder paths of installed models, nothing outside them', async () => {
    const plugin = modelsPlugin(await modelsFolder());
    type Middleware = (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void;
    const middlewares: Partial<Record<'dev' | 'preview', Middleware>> = {};
    const fakeServer = (mode: 'dev' | 'preview') => ({
      middlewares: { use: (m: Middleware) => (middlewares[mode] = m) },
      config: { preview: { headers: { 'X-Test': 'yes' } } },
    });
    (plugin.configureServer as (s: unknown) => void)(fakeServer('dev'));
    (plugin.configurePreviewServer as (s: unknown) => void)(fakeServer('preview'));
    // One test server for both: a request with `x-dev` goes to the development server's middleware.
    const server = http.createServer((req, res) =>
      middlewares[req.headers['x-dev'] ? 'dev' : 'preview']!(req, res, () => {
        res.statusCode = 299; // what the server would do next: its static files, or the app
        res.end();
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const base = `http://127.0.0.1:${port}`;
      const weights = await fetch(`${base}/models/googlenet/weights/inception_4c/5x5_filter.bin`);
      expect(weights.status).toBe(200);
      expect(weights.headers.get('x-test')).toBe('yes');
      expect((await weights.arrayBuffer()).byteLength).toBe(153_600);
      const prototxt = await fetch(`${base}/models/googlenet/deploy.prototxt`);
      expect(prototxt.headers.get('content-type')).toMatch(/^text\/plain/);
      // Not installed: the preview may still have it in the build; in development it is a 404, not the app's page.
      expect((await fetch(`${base}/models/densenet121/model.json`)).status).toBe(299);
      expect((await fetch(`${base}/models/densenet121/model.json`, { headers: { 'x-dev': '1' } })).status).toBe(404);
      const dev = await fetch(`${base}/models/googlenet/weights/conv2/3x3_bias.bin`, { headers: { 'x-dev': '1' } });
      expect([dev.status, dev.headers.get('x-test')]).toEqual([200, null]);
      // Sent as written (fetch would resolve the dots): a path that climbs out is not the plugin's.
      const raw = (p: string) =>
        new Promise<number>((resolve, reject) =>
          http
            .get({ host: '127.0.0.1', port, path: p }, (res) => resolve(res.resume().statusCode!))
            .on('error', reject),
        );
      expect(await raw('/models/googlenet/../../package.json')).toBe(299);
      expect(await raw('/models/googlenet/weights/%2e%2e/deploy.prototxt')).toBe(299);
      expect((await fetch(`${base}/models/registry.ts`)).status).toBe(299);
    } finally {
      server.close();
    }
  });

  test('the build ships the installed on-request models whole, and a damaged one not at all', async () => {
    const plugin = modelsPlugin(await modelsFolder());
    const warnings: string[] = [];
    const emitted: string[] = [];
    const context = {
      warn: (m: string) => warnings.push(m),
      emitFile: (f: { fileName: string }) => emitted.push(f.fileName),
    };
    await (plugin.generateBundle as (this: unknown) => Promise<void>).call(context);
    expect(emitted.filter((f) => f.startsWith('models/googlenet/')).sort()).toEqual(
      Object.keys(googlenet.sha256)
        .map((f) => `models/googlenet/${f}`)
        .sort(),
    );
    expect(emitted.some((f) => !f.startsWith('models/googlenet/'))).toBe(false);
    expect(warnings.find((w) => w.includes('squeezenet1.1'))).toMatch(/weights\/conv10_bias\.bin fails its checksum/);
    // The default models are expected in every build: their absence is said.
    expect(warnings.filter((w) => /model mobilenet_v1_0\.(75|25)_224 is not shipped/.test(w))).toHaveLength(2);
  });

  test("the service worker caches only a model's genuine files", async () => {
    const cacheWillUpdate = genuineModelFiles.cacheWillUpdate! as (p: {
      request: Request;
      response: Response;
    }) => Promise<Response | null>;
    const bytes = await fs.readFile(path.join(installed, 'googlenet', 'weights', 'conv2', '3x3_bias.bin'));
    const at = (p: string) => new Request(`http://app/models/googlenet/${p}`);
    const ok = new Response(bytes);
    expect(await cacheWillUpdate({ request: at('weights/conv2/3x3_bias.bin'), response: ok })).toBe(ok);
    const altered = Uint8Array.from(bytes);
    altered[3]! ^= 1;
    expect(
      await cacheWillUpdate({ request: at('weights/conv2/3x3_bias.bin'), response: new Response(altered) }),
    ).toBeNull();
    const page = new Response('<!doctype html>', { headers: { 'content-type': 'text/html' } });
    expect(await cacheWillUpdate({ request: at('deploy.prototxt'), response: page })).toBeNull();
    expect(
      await cacheWillUpdate({ request: at('deploy.prototxt'), response: new Response('', { status: 404 }) }),
    ).toBeNull();
    expect(
      await cacheWillUpdate({
        request: new Request('http://app/models/nonesuch/x.bin'),
        response: new Response(bytes),
      }),
    ).toBeNull();
  });
});
