import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { zipSync } from 'fflate';
import { WhyCamError } from '../errors.js';
import type { Explainer } from '../methods/explainer.js';
import { type ImageSource, sourceSize, toRgbTensor } from '../runtime/input.js';
import type { Plan } from '../network/plan.js';
import { type CropPolicy, cropRegion, preprocess } from '../runtime/preprocess.js';

/**
 * Teaching: a softmax classifier fitted on the frozen base network's globally pooled features.
 * A linear head straight after global average pooling keeps CAM exact (the class's head weights
 * over the last conv map), so a taught model is explained with every method.
 */

/**
 * The base network's pooled feature vector for an image, from a forward pass that stops at the
 * pooling (the ImageNet classifier after it is never run). Compute it once per example, when the
 * example is recorded: training then only fits the head, on vectors.
 */
export class PooledFeatures {
  readonly pool: string;
  readonly size: number;
  private readonly plan: Plan;

  constructor(readonly base: Explainer) {
    const network = base.network;
    if (!network.camPool || !network.camLayer) {
      throw new WhyCamError(
        'unsupported-model',
        'Teaching needs a base network that ends in global average pooling and a linear classifier.',
      );
    }
    this.pool = network.camPool;
    const full = network.plan([this.pool]);
    const end = full.index.get(this.pool)!;
    // The same steps up to the pooling, with the pooling standing in for the logits.
    this.plan = { steps: full.steps.slice(0, end + 1), index: full.index, input: full.input, logits: this.pool };
    this.size = network.graph.byName.get(this.pool)!.shape.at(-1)!;
  }

  /** The pooled features of the picture's centre square (or of all of it, squashed), as the live view crops it. */
  async of(image: ImageSource, crop: CropPolicy = 'center'): Promise<Float32Array> {
    const { width, height } = sourceSize(image);
    const rgb = await toRgbTensor(image, cropRegion(width, height, this.base.inputSize, crop));
    const pooled = tf.tidy(() => {
      const x = preprocess(rgb, this.base.inputSize, this.base.inputRange);
      const values = this.base.network.forward(this.plan, x, [this.pool]);
      return tf.reshape(values.get(this.pool)!, [this.size]);
    });
    rgb.dispose();
    try {
      return (await pooled.data()) as Float32Array;
    } finally {
      pooled.dispose();
    }
  }
}

export interface TeachClass {
  name: string;
  /** Pooled feature vectors of its examples (`PooledFeatures.of`). */
  examples: readonly Float32Array[];
}

export interface TeachOptions {
  /** Passes over the training examples (default 40). */
  epochs?: number;
  /** Adam's step size (default 0.005). */
  learningRate?: number;
  /** Share of each class's examples held back to measure accuracy (default 0.2; at least one from a class of 5 or more). */
  holdBack?: number;
  /** Examples per step (default 16, more when there are over 128 examples). */
  batchSize?: number;
  /** Seed of the split and of the shuffling, so that a teaching run can be repeated. */
  seed?: number;
  onEpoch?: (progress: EpochProgress) => void;
}

export interface EpochProgress {
  epoch: number;
  epochs: number;
  loss: number;
  /** Accuracy on the training examples in this epoch. */
  accuracy: number;
}

export interface ClassReport {
  name: string;
  trained: number;
  heldBack: number;
  /** Held-back examples of this class classified correctly, or null when none were held back. */
  correct: number | null;
}

/** A fitted head: `softmax(features · kernel + bias)`. */
export interface TaughtHead {
  labels: string[];
  featureSize: number;
  /** [featureSize, classes], row-major. */
  kernel: Float32Array;
  bias: Float32Array;
  /** Accuracy on the held-back examples; null when there were too few examples to hold any back. */
  accuracy: number | null;
  classes: ClassReport[];
  epochs: number;
  trainMs: number;
}

export const MAX_CLASSES = 8;

/**
 * Fits a Dense softmax layer (tfjs-layers, Adam, categorical cross-entropy) on the examples'
 * pooled features and reports its accuracy on held-back examples.
 */
export async function trainHead(classes: readonly TeachClass[], options: TeachOptions = {}): Promise<TaughtHead> {
  const { epochs = 40, learningRate = 0.005, holdBack = 0.2, seed = 1 } = options;
  checkClasses(classes);
  const featureSize = classes[0]!.examples[0]!.length;
  const random = mulberry32(seed);
  const train: { x: Float32Array; y: number }[] = [];
  const held: { x: Float32Array; y: number }[] = [];
  const reports: ClassReport[] = classes.map((c, y) => {
    const order = shuffled(
      c.examples.map((_, i) => i),
      random,
    );
    const count = c.examples.length >= 5 ? Math.max(1, Math.round(c.examples.length * holdBack)) : 0;
    order.forEach((i, k) => (k < count ? held : train).push({ x: c.examples[i]!, y }));
    return { name: c.name, trained: c.examples.length - count, heldBack: count, correct: count > 0 ? 0 : null };
  });

  const t0 = performance.now();
  const head = tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: classes.length,
        activation: 'softmax',
        inputShape: [featureSize],
        kernelInitializer: 'zeros',
      }),
    ],
  });
  const optimizer = tf.train.adam(learningRate);
  head.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const order = shuffled(train, random);
  // Batches of 16, or bigger for many examples so that an epoch stays at about 8 steps: each step
  // costs milliseconds of fixed overhead on WASM whatever its size.
  const batchSize = options.batchSize ?? Math.max(16, Math.ceil(order.length / 8));
  const xs = tf.tensor2d(concat(order.map((e) => e.x)), [order.length, featureSize]);
  const ys = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        order.map((e) => e.y),
        'int32',
      ),
      classes.length,
    ),
  );
  try {
    await head.fit(xs, ys, {
      // Shuffled once above with the seed: the same examples teach the same head.
      epochs,
      batchSize,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onEpochEnd: (epoch, logs) =>
          options.onEpoch?.({
            epoch: epoch + 1,
            epochs,
            loss: logs?.['loss'] ?? NaN,
            accuracy: logs?.['acc'] ?? logs?.['accuracy'] ?? NaN,
          }),
      },
    });
    const [kernel, bias] = await Promise.all(head.getWeights().map((w) => w.data() as Promise<Float32Array>));
    let accuracy: number | null = null;
    if (held.length > 0) {
      const predicted = tf.tidy(() =>
        tf.argMax(
          head.predict(tf.tensor2d(concat(held.map((e) => e.x)), [held.length, featureSize])) as tf.Tensor2D,
          1,
        ),
      );
      const guesses = await predicted.data();
      predicted.dispose();
      let correct = 0;
      held.forEach((e, i) => {
        if (guesses[i] === e.y) {
          correct++;
          reports[e.y]!.correct! += 1;
        }
      });
      accuracy = correct / held.length;
    }
    return {
      labels: classes.map((c) => c.name),
      featureSize,
      kernel: kernel!,
      bias: bias!,
      accuracy,
      classes: reports,
      epochs,
      trainMs: performance.now() - t0,
    };
  } finally {
    xs.dispose();
    ys.dispose();
    head.dispose();
    optimizer.dispose();
  }
}

function checkClasses(classes: readonly TeachClass[]): void {
  if (classes.length < 2 || classes.length > MAX_CLASSES) {
    throw new WhyCamError('bad-option', `Teaching needs 2 to ${MAX_CLASSES} classes; got ${classes.length}.`);
  }
  const names = new Set<string>();
  for (const c of classes) {
    const name = c.name.trim();
    if (name === '') throw new WhyCamError('bad-option', 'Every class needs a name.');
    if (names.has(name.toLowerCase()))
      throw new WhyCamError('bad-option', `Two classes are called "${name}".`, 'Give each class its own name.');
    names.add(name.toLowerCase());
    if (c.examples.length === 0)
      throw new WhyCamError(
        'bad-option',
        `Class "${name}" has no examples.`,
        'Record or add at least one picture for each class.',
      );
  }
  const size = classes[0]!.examples[0]!.length;
  if (classes.some((c) => c.examples.some((e) => e.length !== size))) {
    throw new WhyCamError(
      'bad-option',
      "The examples' feature vectors differ in length (taken from different base models).",
    );
  }
}

function concat(vectors: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(vectors.reduce((n, v) => n + v.length, 0));
  let o = 0;
  for (const v of vectors) {
    out.set(v, o);
    o += v.length;
  }
  return out;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- The portable form: the three files of a Teachable Machine export, the head only ----

/** The layer name of a taught head; its weights are `whycam_head/kernel` and `whycam_head/bias`. */
export const HEAD_LAYER = 'whycam_head';

/** What `metadata.json` of a taught model adds to Teachable Machine's fields. */
export interface TaughtMetadata {
  format: 1;
  /** The registered model whose pooled features the head reads. */
  baseModel: string;
  /** Its global average pooling layer. */
  baseLayer: string;
  accuracy: number | null;
  classes: ClassReport[];
}

/** The bytes of each file (backed by plain ArrayBuffers, so that they make Blobs and Files as they are). */
export interface ModelFiles {
  'model.json': Uint8Array<ArrayBuffer>;
  'weights.bin': Uint8Array<ArrayBuffer>;
  'metadata.json': Uint8Array<ArrayBuffer>;
}

/**
 * A taught model as `model.json` + `weights.bin` + `metadata.json`, laid out as Teachable Machine
 * lays out its exports (a Sequential holding the head; the labels in the metadata) and naming the
 * base model, which is not copied: any WhyCam has it. The examples are not included.
 */
export function taughtModelFiles(
  head: TaughtHead,
  base: { id: string; pool: string; inputSize: number },
  name: string,
): ModelFiles {
  const classes = head.labels.length;
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'whycam_taught',
      layers: [
        {
          class_name: 'Dense',
          config: {
            name: HEAD_LAYER,
            units: classes,
            activation: 'softmax',
            use_bias: true,
            batch_input_shape: [null, head.featureSize],
            dtype: 'float32',
          },
        },
      ],
    },
    keras_version: 'tfjs-layers',
    backend: 'tensor_flow.js',
  };
  const modelJson = {
    modelTopology: topology,
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: `${HEAD_LAYER}/kernel`, shape: [head.featureSize, classes], dtype: 'float32' },
          { name: `${HEAD_LAYER}/bias`, shape: [classes], dtype: 'float32' },
        ],
      },
    ],
  };
  const weights = new Float32Array(head.kernel.length + head.bias.length);
  weights.set(head.kernel);
  weights.set(head.bias, head.kernel.length);
  const whycam: TaughtMetadata = {
    format: 1,
    baseModel: base.id,
    baseLayer: base.pool,
    accuracy: head.accuracy,
    classes: head.classes,
  };
  const metadata = {
    modelName: name,
    labels: head.labels,
    imageSize: base.inputSize,
    packageName: 'whycam',
    timeStamp: new Date().toISOString(),
    whycam,
  };
  const json = (v: unknown): Uint8Array<ArrayBuffer> => new TextEncoder().encode(JSON.stringify(v));
  return {
    'model.json': json(modelJson),
    'weights.bin': new Uint8Array(weights.buffer),
    'metadata.json': json(metadata),
  };
}

/** The three files in one zip (what the app exports and imports). */
export function zipModelFiles(files: ModelFiles): Uint8Array<ArrayBuffer> {
  // fflate always returns a fresh array over its own ArrayBuffer.
  return zipSync({ ...files }, { level: 6 }) as Uint8Array<ArrayBuffer>;
}

/** The WhyCam part of a metadata.json, or null for a Teachable Machine export. */
export function taughtMetadata(raw: Record<string, unknown>, location: string): TaughtMetadata | null {
  const w = raw['whycam'];
  if (w === undefined) return null;
  const m = w as Partial<TaughtMetadata>;
  if (
    typeof m !== 'object' ||
    m === null ||
    m.format !== 1 ||
    typeof m.baseModel !== 'string' ||
    typeof m.baseLayer !== 'string'
  ) {
    throw new WhyCamError(
      'model-corrupt',
      `${location}/metadata.json names no base model in a form this WhyCam reads.`,
      'Export the taught model again from WhyCam.',
    );
  }
  return m as TaughtMetadata;
}
