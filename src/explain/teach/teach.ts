import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { WhyCamError } from '../errors.js';
import { mulberry32 } from '../random.js';
import type { ClassReport } from '../models/taught-format.js';
import type { Explainer } from '../methods/explainer.js';
import { type ImageSource, sourceSize, toRgbTensor } from '../runtime/input.js';
import { type Plan, planUpTo } from '../network/plan.js';
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
  /** The conv map the pooling reads: kept per example so that a held-back example's CAM can be shown. */
  readonly mapLayer: string;
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
    this.mapLayer = network.camLayer;
    this.plan = planUpTo(network.plan([this.pool, this.mapLayer]), this.pool);
    this.size = network.graph.byName.get(this.pool)!.shape.at(-1)!;
  }

  /** The pooled features of the picture's centre square (or of all of it, squashed), as the live view crops it. */
  async of(image: ImageSource, crop: CropPolicy = 'center'): Promise<Float32Array> {
    return (await this.withMap(image, crop)).pooled;
  }

  /** The pooled features and the conv map they pool (height × width × channels, row-major), from one forward pass. */
  async withMap(image: ImageSource, crop: CropPolicy = 'center'): Promise<ExampleFeatures> {
    const { width, height } = sourceSize(image);
    const rgb = await toRgbTensor(image, cropRegion(width, height, this.base.inputSize, crop));
    const [pooled, map] = tf.tidy(() => {
      const x = preprocess(rgb, this.base.inputSize, this.base.inputRange);
      const values = this.base.network.forward(this.plan, x, [this.mapLayer]);
      return [tf.reshape(values.get(this.pool)!, [this.size]), values.get(this.mapLayer)!];
    });
    rgb.dispose();
    try {
      const [p, m] = await Promise.all([pooled.data(), map.data()]);
      const [, h, w] = map.shape;
      return { pooled: p as Float32Array, map: { width: w!, height: h!, data: m as Float32Array } };
    } finally {
      pooled.dispose();
      map.dispose();
    }
  }
}

/** One example's features: the pooled vector the head reads, and the conv map it pools. */
export interface ExampleFeatures {
  pooled: Float32Array;
  map: { width: number; height: number; data: Float32Array };
}

export interface TeachClass {
  name: string;
  /** Pooled feature vectors of its examples (`PooledFeatures.of`). */
  examples: readonly Float32Array[];
}

interface TeachOptions {
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
  /** Each held-back example (its class and its index among the class's examples) with the head's probabilities. */
  heldOut: HeldOutExample[];
  epochs: number;
  trainMs: number;
}

export interface HeldOutExample {
  trueClass: number;
  /** Its index in `TeachClass.examples`. */
  example: number;
  predictedClass: number;
  /** The head's softmax over the classes. */
  probabilities: number[];
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
  const train: { x: Float32Array; y: number; i: number }[] = [];
  const held: { x: Float32Array; y: number; i: number }[] = [];
  const reports: ClassReport[] = classes.map((c, y) => {
    const order = shuffled(
      c.examples.map((_, i) => i),
      random,
    );
    const count = c.examples.length >= 5 ? Math.max(1, Math.round(c.examples.length * holdBack)) : 0;
    order.forEach((i, k) => (k < count ? held : train).push({ x: c.examples[i]!, y, i }));
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
    const heldOut: HeldOutExample[] = [];
    if (held.length > 0) {
      const predicted = tf.tidy(
        () => head.predict(tf.tensor2d(concat(held.map((e) => e.x)), [held.length, featureSize])) as tf.Tensor2D,
      );
      const probabilities = await predicted.data();
      predicted.dispose();
      let correct = 0;
      const n = classes.length;
      held.forEach((e, i) => {
        const p = Array.from(probabilities.subarray(i * n, (i + 1) * n));
        const guess = p.indexOf(Math.max(...p));
        heldOut.push({ trueClass: e.y, example: e.i, predictedClass: guess, probabilities: p });
        if (guess === e.y) {
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
      heldOut,
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
