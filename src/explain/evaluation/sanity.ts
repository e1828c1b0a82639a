import * as tf from '@tensorflow/tfjs-core';
import { Explainer } from '../methods/explainer.js';
import type { ExplainRequest } from '../methods/types.js';
import { mulberry32 } from '../random.js';
import type { ImageSource } from '../runtime/input.js';
import { buildGraph, type NodeSpec } from '../network/graph.js';
import type { Network } from '../network/network.js';
import type { CropPolicy } from '../runtime/preprocess.js';
import { type ProgressOptions, throwIfAborted } from '../progress.js';

/**
 * The model-randomisation sanity check (Adebayo et al., "Sanity checks for saliency maps", 2018):
 * re-initialise the network block by block from the logits downwards and see whether a method's
 * map changes. A map that stays the same while the network it claims to explain is destroyed is
 * not explaining the network.
 *
 * The stored model is never touched: each randomised network is a separate copy of the model whose
 * top blocks get fresh weights and whose other layers share the original's (read-only) weights.
 * Dropping the copy is all it takes to get the real network back.
 */
interface CascadeBlock {
  /** `logits` for the classifier layer, otherwise the block's name (`block 13`, `conv1`). */
  name: string;
  /** The layers with weights in this block, output side first. */
  layers: string[];
}

/**
 * The network's weighted layers from the logits downwards, grouped into blocks: MobileNet's
 * `conv_dw_N`, `conv_pw_N` and their BatchNorms form block N; an inception or fire module
 * (`inception_5b/…`, `fire9/…`) and a DenseNet layer (`conv5_block16_…`) are a block each; any
 * other layer with weights (and its BatchNorm, `<name>_bn`) is a block of its own.
 */
export function cascadeBlocks(network: Network): CascadeBlock[] {
  const blocks: CascadeBlock[] = [];
  const byKey = new Map<string, CascadeBlock>();
  const nodes = network.graph.nodes;
  const logitsAt = nodes.indexOf(network.graph.byName.get(network.logits)!);
  const weighted = nodes.filter((n, i) => Object.keys(n.weights).length > 0 && i <= logitsAt);
  for (const [i, node] of [...weighted].reverse().entries()) {
    // The classifier is the last weighted layer: the logits' own (MobileNet's conv_preds, a dense
    // layer), or, where pooling makes the logits (SqueezeNet's conv10 → pool10), the one before it.
    const key = i === 0 ? 'logits' : blockOf(node.name);
    let block = byKey.get(key);
    if (!block) {
      block = { name: key, layers: [] };
      byKey.set(key, block);
      blocks.push(block);
    }
    block.layers.push(node.name);
  }
  return blocks;
}

function blockOf(name: string): string {
  const stem = name.replace(/_bn$/, '');
  const numbered = /^conv_(?:dw|pw)_(\d+)$/.exec(stem);
  if (numbered) return `block ${numbered[1]}`;
  const dense = /^(conv\d+_block\d+)_/.exec(stem);
  if (dense) return dense[1]!;
  return stem.includes('/') ? stem.slice(0, stem.indexOf('/')) : stem;
}

/**
 * Fresh weights as Keras initialises them: kernels Glorot-uniform (seeded), biases, BatchNorm β and
 * means zero, BatchNorm γ and variances one.
 */
function initialWeight(role: string, shape: number[], seed: number): tf.Tensor {
  if (role === 'gamma' || role === 'variance') return tf.ones(shape);
  if (role === 'beta' || role === 'mean' || role === 'bias') return tf.zeros(shape);
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = receptive * (shape[shape.length - 2] ?? 1);
  const fanOut = receptive * (shape[shape.length - 1] ?? 1);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.randomUniform(shape, -limit, limit, 'float32', seed);
}

/**
 * An explainer for a copy of the network whose top `count` cascade blocks are re-initialised
 * (`count` 0: an unchanged copy). The original explainer and its weights are not modified: the
 * copy's graph shares every weight it does not replace. The caller disposes the returned explainer
 * (which frees only the fresh weights).
 */
export function randomizedExplainer(explainer: Explainer, count: number, seed = 1): Explainer {
  const blocks = cascadeBlocks(explainer.network);
  if (!(Number.isInteger(count) && count >= 0 && count <= blocks.length)) {
    throw new RangeError(`count must be a whole number from 0 to ${blocks.length}; got ${count}`);
  }
  const scrambled = new Set(blocks.slice(0, count).flatMap((b) => b.layers));
  const original = explainer.network.graph;
  const random = mulberry32(seed);
  const fresh: tf.Tensor[] = [];
  const nodes = original.nodes.map((node): NodeSpec => {
    if (!scrambled.has(node.name)) return node;
    const weights = Object.fromEntries(
      Object.entries(node.weights).map(([role, w]) => {
        const t = initialWeight(role, w.shape as number[], Math.floor(random() * 2 ** 31));
        fresh.push(t);
        return [role, t];
      }),
    );
    return { ...node, weights };
  });
  const copy = buildGraph(nodes, original.output, () => {
    for (const t of fresh) t.dispose();
  });
  return new Explainer(copy, {
    labels: explainer.labels,
    inputSize: explainer.inputSize,
    inputRange: explainer.inputRange,
  });
}

/** Spearman's rank correlation (ties get their average rank); 0 when either map is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`maps of ${a.length} and ${b.length} values`);
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const n = ra.length;
  const mean = (n - 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i]! - mean;
    const db = rb[i]! - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((i, j) => values[i]! - values[j]!);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + end - 1) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

interface SanityOptions extends ProgressOptions {
  crop?: CropPolicy;
  /** The class to explain per image (e.g. its ground truth); default the original network's top-1. */
  classIndices?: readonly (number | null)[];
  /** Seed of the re-initialisation (default 1). */
  seed?: number;
  /** How many blocks to randomise, from the logits down (default: all). */
  depth?: number;
}

interface SanityReport {
  /** Cumulative: entry k is "the top k + 1 blocks re-initialised". */
  blocks: string[];
  /** Per method key: the mean Spearman correlation with the original map after each block, and the per-image values. */
  methods: Record<string, { spearman: number[]; perImage: number[][] }>;
}

/**
 * Runs the cascading randomisation on each image for each named request (same class as the
 * original network's explanation) and reports Spearman's ρ against the original maps on the
 * method's own grid. Progress counts (block, image) pairs.
 */
export async function sanityCheck(
  explainer: Explainer,
  images: readonly ImageSource[],
  requests: Readonly<Record<string, ExplainRequest>>,
  options: SanityOptions = {},
): Promise<SanityReport> {
  const names = Object.keys(requests);
  const crop = options.crop ?? 'center';
  const all = cascadeBlocks(explainer.network);
  const depth = options.depth ?? all.length;
  const blocks = all.slice(0, depth);
  const originals: Float32Array[][] = [];
  const classes: number[] = [];
  for (const [i, image] of images.entries()) {
    throwIfAborted(options.signal);
    const asked = options.classIndices?.[i] ?? null;
    const maps = await explainer.explainMany(
      image,
      names.map((n) => ({ ...requests[n]!, classIndex: asked })),
      { crop, topK: 1 },
    );
    classes.push(maps[0]!.target.classIndex);
    originals.push(maps.map((m) => m.heatmap.data));
  }
  const perImage = names.map(() => blocks.map(() => [] as number[]));
  const total = blocks.length * images.length;
  for (let level = 0; level < blocks.length; level++) {
    throwIfAborted(options.signal);
    const scrambled = randomizedExplainer(explainer, level + 1, options.seed ?? 1);
    try {
      for (const [i, image] of images.entries()) {
        throwIfAborted(options.signal);
        const maps = await scrambled.explainMany(
          image,
          names.map((n) => ({ ...requests[n]!, classIndex: classes[i]! })),
          { crop, topK: 1 },
        );
        maps.forEach((m, k) => perImage[k]![level]!.push(spearman(originals[i]![k]!, m.heatmap.data)));
        options.onProgress?.(level * images.length + i + 1, total);
      }
    } finally {
      scrambled.dispose();
    }
  }
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  return {
    blocks: blocks.map((b) => b.name),
    methods: Object.fromEntries(names.map((n, k) => [n, { spearman: perImage[k]!.map(mean), perImage: perImage[k]! }])),
  };
}
