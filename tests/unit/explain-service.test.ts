import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Explanation, ExplainRequest } from '../../src/explain/methods/types.js';
import { WhyCamError } from '../../src/explain/errors.js';
import {
  type ExplainSettings,
  type FrameAckMessage,
  type FromWorker,
  PROTOCOL_VERSION,
  type ResultMessage,
  type ToWorker,
} from '../../src/protocol.js';
import { ExplainService, type FrameExplainer, type ServiceRuntime } from '../../workers/explain-service.js';

// The worker's runtime in Node: a fake explainer stands in for the network, plain objects with
// close() for ImageBitmaps, and a spy for postMessage.

/** A camera picture as the service sees it: something to explain, closed exactly once. */
class FakeBitmap {
  closes = 0;
  constructor(
    readonly width = 64,
    readonly height = 48,
  ) {}
  close(): void {
    this.closes++;
  }
}

/** A promise the test resolves when it chooses. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const LAYER = { name: 'conv', width: 2, height: 2, channels: 8 };

/** Explains by recording what it was asked; `hold` pauses it mid-frame, `failWith` makes it throw. */
class FakeExplainer implements FrameExplainer {
  readonly featureLayers = [LAYER];
  readonly lastConvLayer = LAYER.name;
  readonly camLayer = LAYER.name;
  readonly explained: FakeBitmap[] = [];
  /** Every request, as the explainer was given it. */
  readonly requests: ExplainRequest[] = [];
  hold: Promise<void> | null = null;
  failWith: Error | null = null;
  disposed = false;

  async explain(input: unknown, request: ExplainRequest): Promise<Explanation> {
    this.explained.push(input as FakeBitmap);
    this.requests.push(request);
    if (this.hold) await this.hold;
    if (this.failWith) throw this.failWith;
    const target = { classIndex: 259, label: 'Pomeranian', score: 0.8, logit: 9 };
    const b = request.contrastClass ?? null;
    return {
      ...(b === null ? {} : { contrast: { classIndex: b, label: `class ${b}`, score: 0.1, logit: 2 } }),
      predictions: [{ classIndex: 259, label: 'Pomeranian', score: 0.8 }],
      target,
      method: request.method,
      reduction: request.reduction ?? 'logit',
      layer: LAYER.name,
      heatmap: { width: 2, height: 2, data: new Float32Array([0, 0.25, 0.5, 1]) },
      region: { x: 8, y: 0, width: 48, height: 48 },
      source: { width: 64, height: 48 },
      timings: { preprocessMs: 1, forwardMs: 2, heatmapMs: 3, readbackMs: 4, totalMs: 10 },
    };
  }

  /** One call per picture, however many views: what the worker must do for side by side. */
  async explainMany(input: unknown, requests: readonly ExplainRequest[]): Promise<Explanation[]> {
    const [first, ...rest] = requests;
    const results = [await this.explain(input, first!)];
    for (const r of rest) {
      this.requests.push(r);
      const b = r.contrastClass ?? null;
      results.push({
        ...results[0]!,
        contrast: null,
        ...(b === null ? {} : { contrast: { classIndex: b, label: `class ${b}`, score: 0.1, logit: 2 } }),
        method: r.method,
        heatmap: { width: 2, height: 2, data: new Float32Array([1, 0.5, 0.25, 0]) },
      });
    }
    return results;
  }

  async warmUp(): Promise<void> {}

  resolve: FrameExplainer['resolve'] = (r) => ({
    method: r.method,
    layer: LAYER,
    reduction: r.reduction ?? 'logit',
    classIndex: r.classIndex ?? null,
    contrastClass: null,
  });

  dispose(): void {
    this.disposed = true;
  }
}

const SETTINGS: ExplainSettings = {
  method: 'layercam',
  layer: 'auto',
  reduction: 'logit',
  classIndex: null,
  contrastClass: null,
  compare: null,
  crop: 'center',
  paused: false,
  scramble: 0,
};

/** A service with fakes around it, and what it posted. */
class Harness {
  readonly posted: FromWorker[] = [];
  readonly post = vi.fn((m: FromWorker) => {
    this.posted.push(m);
  });
  readonly explainers = new Map<string, FakeExplainer>();
  /** Model loads that wait for the test (model id → gate). */
  readonly loadGates = new Map<string, Promise<void>>();
  readonly runtime: ServiceRuntime = {
    chooseBackend: async () => ({ name: 'cpu', notes: [] }),
    restartBackend: async () => ({ name: 'cpu', notes: [] }),
    fetchExplainer: async (id) => {
      await this.loadGates.get(id);
      const explainer = new FakeExplainer();
      this.explainers.set(id, explainer);
      return explainer;
    },
  };
  readonly service = new ExplainService(this.post, this.runtime);
  readonly bitmaps: FakeBitmap[] = [];
  private nextFrameId = 1;

  send(message: ToWorker): Promise<void> {
    return this.service.handle(message);
  }

  async start(model = 'a'): Promise<FakeExplainer> {
    await this.send({
      type: 'init',
      version: PROTOCOL_VERSION,
      backend: 'cpu',
      model,
      modelBaseUrl: '/models',
      settings: { ...SETTINGS },
    });
    return this.explainers.get(model)!;
  }

  /** Sends a camera frame as the page's fallback path does; returns its id. */
  frame(streamId = 1): number {
    const bitmap = new FakeBitmap();
    this.bitmaps.push(bitmap);
    const frameId = this.nextFrameId++;
    void this.send({
      type: 'frame',
      picture: bitmap as unknown as ImageBitmap,
      captureTime: Date.now(),
      streamId,
      frameId,
    });
    return frameId;
  }

  acks(): FrameAckMessage[] {
    return this.posted.filter((m): m is FrameAckMessage => m.type === 'frame-ack');
  }

  results(): ResultMessage[] {
    return this.posted.filter((m): m is ResultMessage => m.type === 'result');
  }

  /** Waits until the frame is acknowledged and returns the acknowledgement. */
  async ack(frameId: number): Promise<FrameAckMessage> {
    await vi.waitFor(() => expect(this.acks().some((a) => a.frameId === frameId)).toBe(true), {
      timeout: 2_000,
      interval: 1,
    });
    return this.acks().find((a) => a.frameId === frameId)!;
  }

  /** Every frame sent got exactly one acknowledgement, and every bitmap was closed exactly once. */
  expectAllAnswered(): void {
    const ids = this.acks()
      .map((a) => a.frameId)
      .sort((a, b) => a - b);
    expect(ids).toEqual(this.bitmaps.map((_, i) => i + 1));
    expect(this.bitmaps.map((b) => b.closes)).toEqual(this.bitmaps.map(() => 1));
  }
}

let harness: Harness;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  harness?.service.dispose();
});

describe('ExplainService frame acknowledgements', () => {
  it('acknowledges an explained frame as done, naming its result, after the result', async () => {
    harness = new Harness();
    const explainer = await harness.start();
    expect(harness.posted.find((m) => m.type === 'ready')).toMatchObject({
      backend: 'cpu',
      model: 'a',
      lastConvLayer: 'conv',
    });
    const first = harness.frame();
    expect(await harness.ack(first)).toEqual({
      type: 'frame-ack',
      frameId: first,
      streamId: 1,
      outcome: 'done',
      result: 1,
      readMs: expect.any(Number),
    });
    const second = harness.frame();
    expect(await harness.ack(second)).toEqual({
      type: 'frame-ack',
      frameId: second,
      streamId: 1,
      outcome: 'done',
      result: 2,
      readMs: expect.any(Number),
    });
    const results = harness.results();
    expect(results.map((r) => r.frame)).toEqual([1, 2]);
    // Idle time: none before the session's first frame; before the second, the time the worker
    // waited between finishing the first and this frame's arrival (the test sent it after the ack).
    expect(results[0]!.timings.idleMs).toBeNull();
    expect(results[1]!.timings.idleMs).toBeGreaterThanOrEqual(0);
    expect(results[1]).toMatchObject({
      source: { kind: 'camera', streamId: 1 },
      method: 'layercam',
      skipped: 0,
      openFrames: 0,
    });
    // The result is posted before its acknowledgement.
    const order = harness.posted.filter((m) => m.type === 'result' || m.type === 'frame-ack').map((m) => m.type);
    expect(order).toEqual(['result', 'frame-ack', 'result', 'frame-ack']);
    expect(explainer.explained).toEqual(harness.bitmaps);
    harness.expectAllAnswered();
  });

  it('drops frames while no model is ready: before init and during a model switch', async () => {
    harness = new Harness();
    const early = harness.frame();
    expect(await harness.ack(early)).toMatchObject({ outcome: 'dropped', reason: 'no-model' });
    const first = await harness.start('a');
    const gate = deferred();
    harness.loadGates.set('b', gate.promise);
    const switching = harness.send({ type: 'model', model: 'b' });
    const during = harness.frame();
    expect(await harness.ack(during)).toMatchObject({ frameId: during, outcome: 'dropped', reason: 'no-model' });
    gate.resolve();
    await switching;
    expect(first.disposed).toBe(true);
    const after = harness.frame();
    expect(await harness.ack(after)).toMatchObject({ outcome: 'done', result: 1 });
    expect(harness.explainers.get('b')!.explained).toHaveLength(1);
    harness.expectAllAnswered();
  });

  it('drops the waiting frame when a model switch begins', async () => {
    harness = new Harness();
    const explainer = await harness.start('a');
    const release = deferred();
    explainer.hold = release.promise;
    const busy = harness.frame();
    await vi.waitFor(() => expect(explainer.explained).toHaveLength(1));
    const waiting = harness.frame();
    harness.loadGates.set('b', new Promise(() => undefined)); // never finishes loading
    void harness.send({ type: 'model', model: 'b' });
    expect(await harness.ack(waiting)).toMatchObject({ outcome: 'dropped', reason: 'no-model' });
    release.resolve();
    // The frame already being explained by the old model still completes.
    expect(await harness.ack(busy)).toMatchObject({ outcome: 'done', result: 1 });
    harness.expectAllAnswered();
  });

  it('drops frames while paused (hidden page), and explains again when resumed', async () => {
    harness = new Harness();
    const explainer = await harness.start();
    await harness.send({ type: 'settings', settings: { paused: true } });
    for (let i = 0; i < 2; i++)
      expect(await harness.ack(harness.frame())).toMatchObject({ outcome: 'dropped', reason: 'paused' });
    expect(explainer.explained).toEqual([]);
    await harness.send({ type: 'settings', settings: { paused: false } });
    const resumed = harness.frame();
    expect(await harness.ack(resumed)).toMatchObject({ outcome: 'done', result: 1 });
    harness.expectAllAnswered();
  });

  it('acknowledges a frame whose explanation throws as failed, reports the error once, and goes on', async () => {
    harness = new Harness();
    const explainer = await harness.start();
    explainer.failWith = new WhyCamError('unknown-class', 'Class index 2000 is out of range.');
    for (let i = 0; i < 2; i++) {
      const id = harness.frame();
      expect(await harness.ack(id)).toEqual({
        type: 'frame-ack',
        frameId: id,
        streamId: 1,
        outcome: 'failed',
        message: 'Class index 2000 is out of range.',
      });
    }
    const errors = harness.posted.filter((m) => m.type === 'error');
    expect(errors).toEqual([
      { type: 'error', code: 'unknown-class', message: 'Class index 2000 is out of range.', hint: null, fatal: false },
    ]);
    explainer.failWith = null;
    const ok = harness.frame();
    expect(await harness.ack(ok)).toMatchObject({ outcome: 'done', result: 1 });
    harness.expectAllAnswered();
  });

  it('the fail-frame drill makes exactly the next frame fail', async () => {
    harness = new Harness();
    await harness.start();
    await harness.send({ type: 'drill', failure: 'fail-frame' });
    expect(await harness.ack(harness.frame())).toMatchObject({
      outcome: 'failed',
      message: 'failure drill: this frame could not be explained',
    });
    expect(await harness.ack(harness.frame())).toMatchObject({ outcome: 'done', result: 1 });
    harness.expectAllAnswered();
  });

  it('acknowledges a frame replaced while the worker was busy as superseded, and explains the newest', async () => {
    harness = new Harness();
    const explainer = await harness.start();
    const release = deferred();
    explainer.hold = release.promise;
    const busy = harness.frame();
    await vi.waitFor(() => expect(explainer.explained).toHaveLength(1));
    const [older, newer] = [harness.frame(), harness.frame()];
    expect(await harness.ack(older)).toMatchObject({ outcome: 'dropped', reason: 'superseded' });
    expect(harness.bitmaps[older - 1]!.closes).toBe(1);
    explainer.hold = null;
    release.resolve();
    expect(await harness.ack(busy)).toMatchObject({ outcome: 'done', result: 1 });
    expect(await harness.ack(newer)).toMatchObject({ outcome: 'done', result: 2 });
    expect(harness.results()[1]!.skipped).toBe(1);
    expect(explainer.explained).toEqual([harness.bitmaps[busy - 1], harness.bitmaps[newer - 1]]);
    harness.expectAllAnswered();
  });

  it('drops frames of an older camera session, and camera frames in still-image mode', async () => {
    harness = new Harness();
    await harness.start();
    expect(await harness.ack(harness.frame(2))).toMatchObject({ outcome: 'done', streamId: 2 });
    const old = harness.frame(1);
    expect(await harness.ack(old)).toMatchObject({ streamId: 1, outcome: 'dropped', reason: 'not-current' });
    const picture = new FakeBitmap();
    await harness.send({ type: 'image', bitmap: picture as unknown as ImageBitmap, imageId: 7 });
    await vi.waitFor(() => expect(harness.results().some((r) => r.source.kind === 'image')).toBe(true));
    const still = harness.frame(2);
    expect(await harness.ack(still)).toMatchObject({ outcome: 'dropped', reason: 'not-current' });
    await harness.send({ type: 'camera' });
    expect(picture.closes).toBe(1);
    expect(await harness.ack(harness.frame(2))).toMatchObject({ outcome: 'done', result: 3 });
    harness.expectAllAnswered();
  });

  it('re-explains the still picture when settings change while it is being explained', async () => {
    harness = new Harness();
    const explainer = await harness.start();
    const release = deferred();
    explainer.hold = release.promise;
    await harness.send({ type: 'image', bitmap: new FakeBitmap() as unknown as ImageBitmap, imageId: 1 });
    await vi.waitFor(() => expect(explainer.explained).toHaveLength(1));
    await harness.send({ type: 'settings', settings: { method: 'gradcam' } });
    explainer.hold = null;
    release.resolve();
    await vi.waitFor(() => expect(harness.results().map((r) => r.method)).toEqual(['layercam', 'gradcam']));
  });
  it('side by side: both views of a frame from one explainMany call, both heatmaps transferred', async () => {
    harness = new Harness();
    const explainer = await harness.start();
    await harness.send({ type: 'settings', settings: { compare: { method: 'cam' }, contrastClass: 151 } });
    const first = harness.frame();
    expect(await harness.ack(first)).toMatchObject({ outcome: 'done' });
    expect(explainer.explained).toHaveLength(1);
    // "Why A and not 151": both views are asked for against class 151, and both results say so.
    expect(explainer.requests.map((r) => [r.method, r.contrastClass])).toEqual([
      ['layercam', 151],
      ['cam', 151],
    ]);
    const [result] = harness.results();
    expect(result).toMatchObject({
      method: 'layercam',
      contrast: { classIndex: 151, label: 'class 151' },
      compared: {
        method: 'cam',
        layer: 'conv',
        classIndex: null,
        target: { classIndex: 259 },
        contrast: { classIndex: 151, label: 'class 151' },
      },
    });
    expect(Array.from(result!.compared!.heatmap.data)).toEqual([1, 0.5, 0.25, 0]);
    const call = harness.post.mock.calls.find(([m]) => m.type === 'result')! as unknown as [FromWorker, Transferable[]];
    expect(call[1]).toEqual([result!.heatmap.data.buffer, result!.compared!.heatmap.data.buffer]);
    await harness.send({ type: 'settings', settings: { compare: null, contrastClass: null } });
    await harness.ack(harness.frame());
    expect(harness.results()[1]!.compared).toBeNull();
    // Without the contrast the map explains the class alone, and the result names no B.
    expect(explainer.requests.at(-1)!.contrastClass).toBeNull();
    expect(harness.results()[1]!.contrast).toBeNull();
    harness.expectAllAnswered();
  });
});

describe('ExplainService, a camera track transferred to the worker (Safari 18+)', () => {
  /** A camera track as the worker receives it: stopped at most once. */
  class FakeTrack {
    readonly kind = 'video';
    stops = 0;
    stop(): void {
      this.stops++;
    }
  }

  it('without a track processor in the worker: the track is stopped and the page told to send frames', async () => {
    harness = new Harness();
    await harness.start();
    const track = new FakeTrack();
    await harness.send({ type: 'track', track, streamId: 2 });
    expect(harness.posted.filter((m) => m.type === 'track-refused')).toEqual([{ type: 'track-refused', streamId: 2 }]);
    expect(track.stops).toBe(1);
  });

  it("with one, the worker reads the track's frames itself, and stops the track with its stream", async () => {
    harness = new Harness();
    await harness.start();
    const made: { track: unknown; maxBufferSize?: number }[] = [];
    let push!: (frame: unknown) => void;
    class FakeProcessor {
      readonly readable: ReadableStream<VideoFrame>;
      constructor(init: { track: unknown; maxBufferSize?: number }) {
        made.push(init);
        this.readable = new ReadableStream({
          start(controller) {
            push = (frame) => controller.enqueue(frame as VideoFrame);
          },
        });
      }
    }
    vi.stubGlobal('MediaStreamTrackProcessor', FakeProcessor);
    try {
      const track = new FakeTrack();
      void harness.send({ type: 'track', track, streamId: 3 });
      await vi.waitFor(() => expect(made).toHaveLength(1), { timeout: 2_000, interval: 1 });
      expect(made[0]).toEqual({ track, maxBufferSize: 1 });
      const frame = Object.assign(new FakeBitmap(), { timestamp: 1_000_000 });
      push(frame);
      await vi.waitFor(() => expect(harness.results()).toHaveLength(1), { timeout: 2_000, interval: 1 });
      expect(harness.results()[0]!.source).toEqual({ kind: 'camera', streamId: 3 });
      expect(frame.closes).toBe(1);
      // Frames read from a track are not acknowledged (the page sent none).
      expect(harness.acks()).toEqual([]);
      expect(harness.posted.some((m) => m.type === 'track-refused')).toBe(false);
      expect(track.stops).toBe(0);
      await harness.send({ type: 'stop-stream' });
      expect(track.stops).toBe(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
