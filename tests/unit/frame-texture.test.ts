import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import type { ExplainRequest } from '../../src/explain/methods/types.js';
import type { RgbaImage, VideoFrameLike } from '../../src/explain/runtime/input.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';

// A camera frame (a VideoFrame) into a captured graph on WebGPU, per frame without a temporary
// tensor or buffer and in one submit: in a browser the GPU copies it into the graph's texture
// (copyExternalImageToTexture), and the replay's own command buffer copies that into the input.
// Dawn under Node accepts no external source, so the first test stands in for the browser's copy
// with writeTexture (the rest is real); the second lets Dawn refuse, which must fall back to the
// frame's copyTo. Dawn on SwiftShader, as in graph-capture.test.ts.
process.env['VK_DRIVER_FILES'] ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

const REQUESTS: ExplainRequest[] = [{ method: 'cam' }];
// SwiftShader takes seconds per frame on two shared cores.
const SLOW = 600_000;

interface FakeFrame extends VideoFrameLike {
  pixels: Uint8Array;
  copies: number;
}

/** 330 columns: rows of 1320 bytes, which copyTextureToBuffer must pad to 1536. */
function cropped(image: RgbaImage, width: number, mirror: boolean): RgbaImage {
  const data = new Uint8Array(width * image.height * 4);
  const left = Math.floor((image.width - width) / 2);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * image.width + left + (mirror ? width - 1 - x : x)) * 4;
      data.set(image.data.subarray(from, from + 4), (y * width + x) * 4);
    }
  }
  return { width, height: image.height, data };
}

function frameOf(image: RgbaImage): FakeFrame {
  return {
    displayWidth: image.width,
    displayHeight: image.height,
    pixels: new Uint8Array(image.data),
    copies: 0,
    copyTo(destination: Uint8Array) {
      destination.set(this.pixels);
      this.copies++;
      return Promise.resolve([]);
    },
  };
}

interface Gpu {
  device: { queue: object; createBuffer: unknown; createTexture: unknown };
}

/** Counts, over `run`, the GPU calls that cost per frame, and the tensors made. */
async function counted<T>(run: () => Promise<T>): Promise<{ result: T; counts: Record<string, number> }> {
  const { device } = tf.backend() as unknown as Gpu;
  const counts: Record<string, number> = {};
  const targets: [object, string][] = [
    [Object.getPrototypeOf(device.queue) as object, 'submit'],
    [Object.getPrototypeOf(device.queue) as object, 'writeBuffer'],
    [Object.getPrototypeOf(device.queue) as object, 'copyExternalImageToTexture'],
    [Object.getPrototypeOf(device) as object, 'createBuffer'],
    [Object.getPrototypeOf(device) as object, 'createTexture'],
  ];
  const saved = targets.map(([owner, name]) => (owner as Record<string, (...a: unknown[]) => unknown>)[name]!);
  targets.forEach(([owner, name], i) => {
    counts[name] = 0;
    (owner as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      counts[name]!++;
      return saved[i]!.apply(this, args);
    };
  });
  const firstId = tf.scalar(0);
  try {
    const result = await run();
    const lastId = tf.scalar(0);
    counts['tensors'] = lastId.id - firstId.id - 1;
    lastId.dispose();
    return { result, counts };
  } finally {
    firstId.dispose();
    targets.forEach(([owner, name], i) => ((owner as Record<string, unknown>)[name] = saved[i]));
  }
}

let explainer: Explainer;
let a: RgbaImage;
let b: RgbaImage;
beforeAll(async () => {
  explainer = await mirrorExplainer('webgpu', 'mobilenet_v1_0.25_224');
  const sherlock = await readImage(photo('sherlock_golden_retriever.jpg'));
  a = cropped(sherlock, 330, false);
  b = cropped(sherlock, 330, true);
}, 120_000);

afterAll(() => explainer?.dispose());

async function opByOp(image: RgbaImage): Promise<Awaited<ReturnType<Explainer['explainMany']>>> {
  explainer.useGraphCapture = false;
  try {
    return await explainer.explainMany(image, REQUESTS);
  } finally {
    explainer.useGraphCapture = true;
  }
}

function expectSame(got: Awaited<ReturnType<Explainer['explainMany']>>, expected: typeof got): void {
  for (const [i, r] of got.entries()) {
    expect(r.target.classIndex).toBe(expected[i]!.target.classIndex);
    expect(Math.abs(r.target.score - expected[i]!.target.score)).toBeLessThan(1e-5);
    expect(maxAbsDiff(r.heatmap.data, expected[i]!.heatmap.data), `${r.method} ${r.layer}`).toBeLessThan(1e-5);
  }
}

test(
  'where the device refuses the frame (Dawn under Node), its copyTo bytes go into the input: one write, one submit',
  async () => {
    try {
      const frames = [frameOf(a), frameOf(b)];
      const first = await explainer.explainMany(frames[0]!, REQUESTS);
      const { result: second, counts } = await counted(() => explainer.explainMany(frames[1]!, REQUESTS));
      expect(explainer.graphCaptureError).toBeNull();
      expectSame(first, await opByOp(a));
      expectSame(second, await opByOp(b));
      expect(frames.map((f) => f.copies)).toEqual([1, 1]);
      expect(counts).toEqual({
        submit: 1,
        writeBuffer: 1,
        copyExternalImageToTexture: 0,
        createBuffer: 0,
        createTexture: 0,
        tensors: 0,
      });
    } finally {
      explainer.releaseGraphs();
    }
  },
  SLOW,
);

test(
  'a VideoFrame copied on the GPU: the replay takes it straight into the input, in one submit',
  async () => {
    const [expectedA, expectedB] = [await opByOp(a), await opByOp(b)];
    // Dawn refused the frame in the test above; here the copy is accepted, as in a browser.
    (explainer as unknown as { captured: { externalCopy: boolean } }).captured.externalCopy = true;
    const queue = Object.getPrototypeOf((tf.backend() as unknown as Gpu).device.queue) as Record<string, unknown>;
    const dawnCopy = queue['copyExternalImageToTexture'];
    // What a browser's copy does with a VideoFrame: its RGBA pixels into the texture.
    queue['copyExternalImageToTexture'] = function (
      this: { writeTexture(...args: unknown[]): void },
      { source }: { source: FakeFrame },
      destination: object,
      size: [number, number],
    ) {
      this.writeTexture(destination, source.pixels, { bytesPerRow: size[0] * 4, rowsPerImage: size[1] }, size);
    };
    try {
      const frames = [frameOf(a), frameOf(b), frameOf(a)];
      const tensorsBefore = tf.memory().numTensors;
      const first = await explainer.explainMany(frames[0]!, REQUESTS);
      const second = await explainer.explainMany(frames[1]!, REQUESTS);
      const { result: third, counts } = await counted(() => explainer.explainMany(frames[2]!, REQUESTS));
      expect(explainer.graphCaptureError).toBeNull();
      expectSame(first, expectedA);
      expectSame(second, expectedB);
      expectSame(third, expectedA);
      // A new picture gives a new map: the replay read the new frame.
      expect(maxAbsDiff(second[0]!.heatmap.data, first[0]!.heatmap.data)).toBeGreaterThan(0.05);
      expect(
        frames.map((f) => f.copies),
        'never read back to the CPU',
      ).toEqual([0, 0, 0]);
      // Per replayed frame: one copy into the texture and one submit; nothing allocated, nothing written from the CPU.
      expect(counts).toEqual({
        submit: 1,
        writeBuffer: 0,
        copyExternalImageToTexture: 1,
        createBuffer: 0,
        createTexture: 0,
        tensors: 0,
      });
      expect(tf.memory().numTensors, "the graph's input and output").toBe(tensorsBefore + 2);
    } finally {
      queue['copyExternalImageToTexture'] = dawnCopy;
      explainer.releaseGraphs();
    }
  },
  SLOW,
);
