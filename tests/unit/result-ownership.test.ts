import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Explanation, ExplainRequest } from '../../src/explain/methods/types.js';
import {
  type ExplainSettings,
  type FromWorker,
  PROTOCOL_VERSION,
  type ResultMessage,
  type ToWorker,
} from '../../src/protocol.js';
import { WorkerConnection, type WorkerConnectionEvents } from '../../src/app/controllers/worker-connection.js';
import { ExplainService, type FrameExplainer, type ServiceRuntime } from '../../workers/explain-service.js';

// "A result always belongs to the picture it explains": the page's WorkerConnection and the
// worker's ExplainService joined back to back (messages in order, as postMessage delivers them),
// with a fake network that names what it sees, so that each result can be checked against its picture.

/** A picture that says what it shows; closed exactly once. */
class Picture {
  closes = 0;
  readonly width = 64;
  readonly height = 48;
  constructor(readonly shows: string) {}
  close(): void {
    this.closes++;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const LAYER = { name: 'conv', width: 2, height: 2, channels: 8 };

/** Predicts "<model>: <what the picture shows>" with certainty; `gate` holds the next explanation. */
class NamingExplainer implements FrameExplainer {
  readonly featureLayers = [LAYER];
  readonly lastConvLayer = LAYER.name;
  readonly camLayer = LAYER.name;
  gate: Promise<void> | null = null;
  /** Resolves when an explanation has started (and is held at the gate, if any). */
  started = deferred();
  constructor(readonly model: string) {}

  async explainMany(input: unknown, requests: readonly ExplainRequest[]): Promise<Explanation[]> {
    this.started.resolve();
    const gate = this.gate;
    this.gate = null;
    if (gate) await gate;
    const label = `${this.model}: ${(input as Picture).shows}`;
    const target = { classIndex: 1, label, score: 1, logit: 9 };
    return requests.map((r) => ({
      predictions: [{ classIndex: 1, label, score: 1 }],
      target,
      method: r.method,
      reduction: r.reduction ?? 'logit',
      layer: LAYER.name,
      heatmap: { width: 2, height: 2, data: new Float32Array(4) },
      region: { x: 0, y: 0, width: 48, height: 48 },
      source: { width: 64, height: 48 },
      timings: { preprocessMs: 0, forwardMs: 0, heatmapMs: 0, readbackMs: 0, totalMs: 0 },
    }));
  }
  explain: FrameExplainer['explain'] = async (input, request) => (await this.explainMany(input, [request]))[0]!;
  async warmUp(): Promise<void> {}
  resolve: FrameExplainer['resolve'] = (r) => ({
    method: r.method,
    layer: LAYER,
    reduction: r.reduction ?? 'logit',
    classIndex: r.classIndex ?? null,
    contrastClass: null,
  });
  dispose(): void {}
}

const SETTINGS: ExplainSettings = {
  method: 'gradcam',
  layer: 'auto',
  reduction: 'logit',
  classIndex: null,
  contrastClass: null,
  compare: null,
  crop: 'center',
  paused: false,
  scramble: 0,
};

/** The page's connection wired to a worker service: what the page accepted, and what the worker posted. */
class Loopback {
  readonly accepted: ResultMessage[] = [];
  readonly posted: FromWorker[] = [];
  readonly explainers = new Map<string, NamingExplainer>();
  readonly loadGates = new Map<string, Promise<void>>();
  readonly connection: WorkerConnection;
  readonly service: ExplainService;
  /** The worker handles messages one after another, as explain.worker.ts does. */
  private queue = Promise.resolve();
  private frameId = 1;

  constructor() {
    const runtime: ServiceRuntime = {
      chooseBackend: async () => ({ name: 'cpu', notes: [] }),
      restartBackend: async () => ({ name: 'cpu', notes: [] }),
      fetchExplainer: async (id) => {
        await this.loadGates.get(id);
        const explainer = new NamingExplainer(id);
        this.explainers.set(id, explainer);
        return explainer;
      },
    };
    this.service = new ExplainService((m) => {
      this.posted.push(m);
      (this.connection as unknown as { onMessage(m: FromWorker): void }).onMessage(m);
    }, runtime);
    const events = {
      result: (r: ResultMessage) => this.accepted.push(r),
      ready: () => undefined,
      frameAck: () => undefined,
      error: () => undefined,
      other: () => undefined,
    } as unknown as WorkerConnectionEvents;
    const host = { addController: () => undefined, requestUpdate: () => undefined };
    this.connection = new WorkerConnection(host as never, 'cpu', events, () => 0);
    // The connection's worker client, as the page has it once started: messages go to the service.
    (this.connection as unknown as { client: { send(m: ToWorker): void } }).client = {
      send: (m: ToWorker) => {
        this.queue = this.queue.then(() => this.service.handle(m));
      },
    };
  }

  async start(model = 'mobilenet'): Promise<void> {
    this.connection.send({
      type: 'init',
      version: PROTOCOL_VERSION,
      backend: 'cpu',
      model,
      modelBaseUrl: '/models',
      settings: { ...SETTINGS },
    });
    await vi.waitFor(() => expect(this.connection.ready?.model).toBe(model), { timeout: 2000, interval: 1 });
  }

  /** A camera frame sent as the page's fallback path does (frames are not queued behind other messages). */
  cameraFrame(shows: string, streamId = 1): void {
    void this.service.handle({
      type: 'frame',
      picture: new Picture(shows) as unknown as ImageBitmap,
      captureTime: Date.now(),
      streamId,
      frameId: this.frameId++,
    });
  }

  openImage(shows: string, imageId: number): void {
    this.connection.send({ type: 'image', bitmap: new Picture(shows) as unknown as ImageBitmap, imageId });
  }

  /** Waits for the first accepted result that satisfies `check`. */
  async acceptedWhere(check: (r: ResultMessage) => boolean): Promise<ResultMessage> {
    await vi.waitFor(() => expect(this.accepted.some(check)).toBe(true), { timeout: 2000, interval: 1 });
    return this.accepted.find(check)!;
  }

  /** Waits until the worker has posted `n` results in all (accepted or not). */
  async posts(n: number): Promise<ResultMessage[]> {
    const results = (): ResultMessage[] => this.posted.filter((m): m is ResultMessage => m.type === 'result');
    await vi.waitFor(() => expect(results().length).toBeGreaterThanOrEqual(n), { timeout: 2000, interval: 1 });
    return results();
  }
}

let loop: Loopback | null = null;
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  loop?.service.dispose();
  loop = null;
});

describe('a result always belongs to the picture it explains', () => {
  it('camera → photo: the camera frame explained while the photo arrives is never taken for the photo', async () => {
    loop = new Loopback();
    await loop.start();
    const net = loop.explainers.get('mobilenet')!;
    const hold = deferred();
    net.gate = hold.promise;
    net.started = deferred();
    loop.cameraFrame('brown dog');
    await net.started.promise; // the dog is being explained…
    loop.openImage('orange', 1); // …when the photo is opened
    await Promise.resolve();
    hold.resolve();
    const [camera, photo] = await loop.posts(2);
    // The worker finished the dog and posted it, labelled with the request it answered (the camera's).
    expect(camera).toMatchObject({ source: { kind: 'camera' }, target: { label: 'mobilenet: brown dog' } });
    expect(photo).toMatchObject({ source: { kind: 'image', imageId: 1 }, target: { label: 'mobilenet: orange' } });
    expect(camera!.request).toBeLessThan(photo!.request);
    expect(photo!.request).toBe(loop.connection.request);
    // The page took only the photo's.
    expect(loop.accepted.map((r) => r.target.label)).toEqual(['mobilenet: orange']);
    expect(loop.connection.staleResults).toBe(1);
  });

  it('photo → photo: the first photo’s late result is dropped, the second gets its own prediction', async () => {
    loop = new Loopback();
    await loop.start();
    const net = loop.explainers.get('mobilenet')!;
    const hold = deferred();
    net.gate = hold.promise;
    net.started = deferred();
    loop.openImage('goldfish', 1);
    await net.started.promise;
    loop.openImage('ostrich', 2);
    await Promise.resolve();
    hold.resolve();
    const ostrich = await loop.acceptedWhere((r) => r.source.kind === 'image' && r.source.imageId === 2);
    expect(ostrich.target.label).toBe('mobilenet: ostrich');
    const posted = await loop.posts(2);
    expect(posted.map((r) => r.target.label)).toEqual(['mobilenet: goldfish', 'mobilenet: ostrich']);
    expect(loop.accepted.map((r) => r.target.label)).toEqual(['mobilenet: ostrich']);
  });

  it('a setting changed while a picture is explained: the result of the old setting is not shown as the new', async () => {
    loop = new Loopback();
    await loop.start();
    const net = loop.explainers.get('mobilenet')!;
    const hold = deferred();
    net.gate = hold.promise;
    net.started = deferred();
    loop.openImage('orange', 1);
    await net.started.promise;
    loop.connection.send({ type: 'settings', settings: { method: 'layercam' } });
    await Promise.resolve();
    hold.resolve();
    const layercam = await loop.acceptedWhere((r) => r.method === 'layercam');
    expect(layercam.target.label).toBe('mobilenet: orange');
    expect(loop.accepted.map((r) => r.method)).toEqual(['layercam']);
  });

  it('model switch: the previous model’s result, posted after the new one is ready, is dropped', async () => {
    loop = new Loopback();
    await loop.start('mobilenet');
    const net = loop.explainers.get('mobilenet')!;
    const hold = deferred();
    net.gate = hold.promise;
    net.started = deferred();
    loop.openImage('orange', 1);
    await net.started.promise; // the old model is explaining the orange…
    loop.connection.loadModel('fast', 'Fast'); // …when another model is asked for
    await vi.waitFor(() => expect(loop!.connection.ready?.model).toBe('fast'), { timeout: 2000, interval: 1 });
    hold.resolve(); // the old model's orange is posted only now, after the new model's `ready`
    const fast = await loop.acceptedWhere((r) => r.model === 'fast');
    expect(fast).toMatchObject({ source: { kind: 'image', imageId: 1 }, target: { label: 'fast: orange' } });
    const posted = await loop.posts(2);
    expect(posted.map((r) => r.target.label).sort()).toEqual(['fast: orange', 'mobilenet: orange']);
    expect(loop.accepted.map((r) => r.target.label)).toEqual(['fast: orange']);
  });
});
