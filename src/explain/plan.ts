import * as tf from '@tensorflow/tfjs-core';
import {
  type Activation, activationBackward, applyActivation, isActivation, isFusable,
} from './activations.js';
import { WhyCamError } from './errors.js';
import type { GraphNode, ModelGraph } from './graph.js';
import type { WeightStore } from './weights.js';

/**
 * One executable unit of the network: a Keras layer, or a conv / dense layer with the BatchNorm
 * and activation after it folded in. Its output is the output of the last layer it covers.
 */
export interface Step {
  readonly name: string;
  readonly covers: readonly string[];
  readonly inputs: readonly string[];
  readonly shape: readonly number[];
  /** An affine function of its input (CAM is only defined through such steps). */
  readonly linear: boolean;
  forward(inputs: tf.Tensor[]): tf.Tensor;
  /**
   * dL/d(each input) from dL/d(output) and the output itself, built from forward ops only
   * (gradient kernels are slow or missing on some backends). Absent when not differentiable.
   */
  backward?(dy: tf.Tensor, y: tf.Tensor): tf.Tensor[];
}

/** The network from its input up to the logits, as steps in topological order. */
export interface Plan {
  readonly steps: readonly Step[];
  readonly index: ReadonlyMap<string, number>;
  readonly input: string;
  readonly logits: string;
}

type Padding = 'same' | 'valid';

interface ConvGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
}

const IDENTITY_LAYERS = new Set([
  'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
]);

/**
 * Turns the graph into steps, fusing conv → BatchNorm → activation where no exposed layer sits
 * in between. `exposed` names layers whose own output must be available (feature layers).
 */
export function buildPlan(
  graph: ModelGraph, logits: string, exposed: ReadonlySet<string>, weights: WeightStore,
  relevant: ReadonlySet<string>,
): Plan {
  const steps: Step[] = [];
  const absorbed = new Set<string>();
  const canFuseAfter = (node: GraphNode): GraphNode | undefined => {
    if (exposed.has(node.name) || node.name === logits || node.consumers.length !== 1) return undefined;
    const next = graph.byName.get(node.consumers[0]!)!;
    return next.inputs.length === 1 ? next : undefined;
  };

  for (const node of graph.nodes) {
    if (!relevant.has(node.name) || absorbed.has(node.name)) continue;
    if (node.inputs.length === 0) {
      steps.push({ name: node.name, covers: [node.name], inputs: [], shape: node.shape, linear: true, forward: identityForward });
      continue;
    }
    const group = [node];
    if (['Conv2D', 'DepthwiseConv2D', 'Dense'].includes(node.className) && activationOf(node, logits) === 'linear') {
      let next = canFuseAfter(node);
      if (next?.className === 'BatchNormalization' && isChannelsLastBatchNorm(next)) {
        group.push(next);
        next = canFuseAfter(next);
      }
      const act = next ? standaloneActivation(next) : undefined;
      if (next && act && isFusable(act)) group.push(next);
    } else if (node.className === 'BatchNormalization') {
      const next = canFuseAfter(node);
      if (next && standaloneActivation(next)) group.push(next);
    }
    for (const g of group.slice(1)) absorbed.add(g.name);
    steps.push(makeStep(group, graph, logits, weights));
    if (node.name === logits || group.some((g) => g.name === logits)) break;
  }
  const index = new Map(steps.map((s, i) => [s.name, i]));
  if (!index.has(logits)) throw new Error(`internal: logit layer ${logits} not planned`);
  return { steps, index, input: graph.input, logits };
}

function identityForward(inputs: tf.Tensor[]): tf.Tensor {
  return tf.clone(inputs[0]!);
}

/** The layer's own activation; the logit layer counts as linear (its softmax is applied separately). */
function activationOf(node: GraphNode, logits: string): Activation | 'softmax' | string {
  const act = (node.config['activation'] as string | undefined) ?? 'linear';
  return node.name === logits && act === 'softmax' ? 'linear' : act;
}

function standaloneActivation(node: GraphNode): Activation | undefined {
  if (node.className === 'Activation') {
    const act = node.config['activation'] as string;
    return isActivation(act) ? act : undefined;
  }
  if (node.className === 'ReLU') {
    const max = node.config['maxValue'] as number | null | undefined;
    const slope = (node.config['negativeSlope'] as number | undefined) ?? 0;
    const threshold = (node.config['threshold'] as number | undefined) ?? 0;
    if (slope !== 0 || threshold !== 0) return undefined;
    if (max === null || max === undefined) return 'relu';
    if (max === 6) return 'relu6';
  }
  return undefined;
}

function isChannelsLastBatchNorm(node: GraphNode): boolean {
  const axis = node.config['axis'] as number | number[];
  const a = Array.isArray(axis) ? axis : [axis];
  return a.length === 1 && (a[0] === -1 || a[0] === node.shape.length - 1);
}

function makeStep(group: GraphNode[], graph: ModelGraph, logits: string, weights: WeightStore): Step {
  const head = group[0]!;
  const last = group[group.length - 1]!;
  const base = {
    name: last.name,
    covers: group.map((g) => g.name),
    inputs: head.inputs,
    shape: last.shape,
  };
  const inputShape = (i = 0): number[] => graph.byName.get(head.inputs[i]!)!.shape;
  const actNode = group.find((g) => g.className === 'Activation' || g.className === 'ReLU');
  const bnNode = group.find((g) => g.className === 'BatchNormalization');

  switch (head.className) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'Dense': {
      const own = activationOf(head, logits);
      const act = actNode ? standaloneActivation(actNode)! : own;
      if (!isActivation(act)) return layerStep(group, base);
      const [kernel, bias] = weights.get(`${base.covers.join('+')}:folded`, () => foldedWeights(head, bnNode));
      if (head.className === 'Dense') return denseStep(base, kernel!, bias!, act);
      const geometry = convGeometry(head);
      if (!geometry) return layerStep(group, base);
      if (head.className === 'Conv2D') return convStep(base, kernel!, bias!, act, geometry, inputShape(), weights);
      return depthwiseStep(base, kernel!, bias!, act, geometry, inputShape(), weights);
    }
    case 'BatchNormalization': {
      if (!isChannelsLastBatchNorm(head)) return layerStep(group, base);
      const act = actNode ? standaloneActivation(actNode)! : 'linear';
      const [scale, shift] = weights.get(`${head.name}:affine`, () => batchNormAffine(head));
      return affineStep(base, scale!, shift!, act);
    }
    case 'Activation':
    case 'ReLU': {
      const act = standaloneActivation(head);
      if (!act) return layerStep(group, base);
      return {
        ...base, linear: act === 'linear',
        forward: ([x]) => (act === 'linear' ? tf.clone(x!) : applyActivation(x!, act)),
        backward: (dy, y) => [activationBackward(dy, y, act)],
      };
    }
    case 'GlobalAveragePooling2D': {
      const [, h, w, c] = inputShape();
      if (head.config['dataFormat'] === 'channelsFirst') return layerStep(group, base);
      return {
        ...base, linear: true,
        forward: ([x]) => tf.reshape(tf.mean(x!, [1, 2]), base.shape as number[]),
        backward: (dy) => [tf.mul(tf.tile(tf.reshape(dy, [1, 1, 1, c!]), [1, h!, w!, 1]), 1 / (h! * w!))],
      };
    }
    case 'Reshape':
    case 'Flatten': {
      const from = inputShape();
      return {
        ...base, linear: true,
        forward: ([x]) => tf.reshape(x!, base.shape as number[]),
        backward: (dy) => [tf.reshape(dy, from)],
      };
    }
    case 'ZeroPadding2D': {
      const [[top, bottom], [left, right]] = head.config['padding'] as [[number, number], [number, number]];
      const [, h, w, c] = inputShape();
      return {
        ...base, linear: true,
        forward: ([x]) => tf.pad(x!, [[0, 0], [top, bottom], [left, right], [0, 0]]),
        backward: (dy) => [tf.slice(dy, [0, top, left, 0], [1, h!, w!, c!])],
      };
    }
    case 'Add':
      return {
        ...base, linear: true,
        forward: (xs) => tf.addN(xs),
        backward: (dy) => head.inputs.map(() => dy),
      };
    default:
      if (IDENTITY_LAYERS.has(head.className)) {
        return { ...base, linear: true, forward: identityForward, backward: (dy) => [dy] };
      }
      return layerStep(group, base);
  }
}

type StepBase = Pick<Step, 'name' | 'covers' | 'inputs' | 'shape'>;

/** Any other layer runs forward through tfjs-layers itself; it cannot sit between a feature layer and the logits. */
function layerStep(group: GraphNode[], base: StepBase): Step {
  if (group.length > 1) throw new Error('internal: only fusable layers are grouped');
  const layer = group[0]!.layer;
  return {
    ...base, linear: false,
    forward: (xs) => layer.apply(xs.length === 1 ? xs[0]! : xs) as tf.Tensor,
  };
}

function convGeometry(node: GraphNode): ConvGeometry | undefined {
  const c = node.config;
  const padding = c['padding'] as string;
  if ((padding !== 'same' && padding !== 'valid') || c['dataFormat'] === 'channelsFirst') return undefined;
  return {
    kernel: pair(c['kernelSize']),
    strides: pair(c['strides'] ?? 1),
    dilations: pair(c['dilationRate'] ?? 1),
    padding,
  };
}

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number];
}

/** [kernel, bias] of a conv / dense layer with the BatchNorm after it (if any) folded in. */
function foldedWeights(layer: GraphNode, bn: GraphNode | undefined): tf.Tensor[] {
  const w = layer.layer.getWeights();
  const kernel = w[0]!;
  const outChannels = layer.shape[layer.shape.length - 1]!;
  const bias = layer.config['useBias'] ? w[1]! : tf.zeros([outChannels]);
  if (!bn) return [kernel, bias];
  const [scale, shift] = batchNormAffine(bn);
  const kernelScale = layer.className === 'DepthwiseConv2D'
    ? tf.reshape(scale!, [1, 1, kernel.shape[2]!, kernel.shape[3]!])
    : scale!;
  return [tf.mul(kernel, kernelScale), tf.add(tf.mul(bias, scale!), shift!)];
}

/** Inference BatchNorm as y = x * scale + shift. */
function batchNormAffine(bn: GraphNode): tf.Tensor[] {
  const c = bn.config;
  const w = bn.layer.getWeights();
  let i = 0;
  const gamma = c['scale'] !== false ? w[i++]! : undefined;
  const beta = c['center'] !== false ? w[i++]! : undefined;
  const mean = w[i]!;
  const variance = w[i + 1]!;
  const epsilon = (c['epsilon'] as number | undefined) ?? 1e-3;
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const scale = gamma ? tf.mul(gamma, invStd) : invStd;
  const shift = tf.sub(beta ?? tf.zerosLike(mean), tf.mul(mean, scale));
  return [scale, shift];
}

function affineStep(base: StepBase, scale: tf.Tensor, shift: tf.Tensor, act: Activation): Step {
  return {
    ...base, linear: act === 'linear',
    forward: ([x]) => applyActivation(tf.add(tf.mul(x!, scale), shift), act),
    backward: (dy, y) => [tf.mul(activationBackward(dy, y, act), scale)],
  };
}

function denseStep(base: StepBase, kernel: tf.Tensor, bias: tf.Tensor, act: Activation): Step {
  if (base.shape.length !== 2) throw new WhyCamError('unsupported-model', `Dense layer "${base.name}" is applied to a tensor of rank > 2.`);
  const fused = isFusable(act) ? act : undefined;
  return {
    ...base, linear: act === 'linear',
    forward: ([x]) => {
      const y = tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias, activation: fused ?? 'linear' });
      return fused ? y : applyActivation(y, act);
    },
    backward: (dy, y) => [tf.matMul(activationBackward(dy, y, act) as tf.Tensor2D, kernel as tf.Tensor2D, false, true)],
  };
}

function convStep(
  base: StepBase, kernel: tf.Tensor, bias: tf.Tensor, act: Activation, g: ConvGeometry,
  inputShape: number[], weights: WeightStore,
): Step {
  const fused = isFusable(act) ? act : undefined;
  const pointwise = g.kernel[0] === 1 && g.kernel[1] === 1 && g.strides[0] === 1 && g.strides[1] === 1;
  const dilated = g.dilations[0] !== 1 || g.dilations[1] !== 1;
  const step: Step = {
    ...base, linear: act === 'linear',
    forward: ([x]) => {
      const y = tf.fused.conv2d({
        x: x as tf.Tensor4D, filter: kernel as tf.Tensor4D, strides: g.strides, pad: g.padding,
        dilations: g.dilations, bias, activation: fused ?? 'linear',
      });
      return fused ? y : applyActivation(y, act);
    },
  };
  if (dilated) return step;
  step.backward = (dy, y) => {
    const dz = activationBackward(dy, y, act) as tf.Tensor4D;
    if (pointwise) {
      // A 1×1 conv is a matrix product over channels; its input gradient is the product with the transpose.
      const [transposed] = weights.get(`${base.name}:transposed`, () => [tf.transpose(kernel, [0, 1, 3, 2])]);
      return [tf.conv2d(dz, transposed as tf.Tensor4D, 1, 'valid')];
    }
    return [tf.conv2dTranspose(dz, kernel as tf.Tensor4D, inputShape as [number, number, number, number], g.strides, g.padding)];
  };
  return step;
}

function depthwiseStep(
  base: StepBase, kernel: tf.Tensor, bias: tf.Tensor, act: Activation, g: ConvGeometry,
  inputShape: number[], weights: WeightStore,
): Step {
  const fused = isFusable(act) ? act : undefined;
  const [kh, kw, channels, multiplier] = kernel.shape as [number, number, number, number];
  const [, inH, inW] = inputShape as [number, number, number, number];
  const [, outH, outW] = base.shape as [number, number, number, number];
  const dilated = g.dilations[0] !== 1 || g.dilations[1] !== 1;
  const step: Step = {
    ...base, linear: act === 'linear',
    forward: ([x]) => {
      const y = tf.fused.depthwiseConv2d({
        x: x as tf.Tensor4D, filter: kernel as tf.Tensor4D, strides: g.strides, pad: g.padding,
        dilations: g.dilations, bias, activation: fused ?? 'linear',
      });
      return fused ? y : applyActivation(y, act);
    },
  };
  if (dilated) return step;
  // The input gradient of a depthwise conv is a depthwise conv of the (stride-dilated, padded)
  // output gradient with the kernel rotated by 180°, one output channel at a time.
  const padTop = padBefore(inH, outH, kh, g.strides[0], g.padding);
  const padLeft = padBefore(inW, outW, kw, g.strides[1], g.padding);
  step.backward = (dy, y) => {
    const [rotated] = weights.get(`${base.name}:rotated`, () => [
      tf.reshape(tf.reverse(kernel, [0, 1]), [kh, kw, channels * multiplier, 1]),
    ]);
    let dz = activationBackward(dy, y, act) as tf.Tensor4D;
    dz = dilate(dz, g.strides[0], g.strides[1]);
    dz = padOrCrop(dz, [kh - 1 - padTop, inH + padTop - dz.shape[1]], [kw - 1 - padLeft, inW + padLeft - dz.shape[2]]);
    const dx = tf.depthwiseConv2d(dz, rotated as tf.Tensor4D, 1, 'valid');
    return [multiplier === 1 ? dx : tf.sum(tf.reshape(dx, [1, inH, inW, channels, multiplier]), -1)];
  };
  return step;
}

function padBefore(size: number, out: number, k: number, stride: number, padding: Padding): number {
  if (padding === 'valid') return 0;
  return Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2);
}

/** Inserts stride-1 zeros between rows and columns using only 4-D pads and reshapes. */
function dilate(x: tf.Tensor4D, sy: number, sx: number): tf.Tensor4D {
  const [, h, , c] = x.shape;
  let w = x.shape[2];
  if (sx > 1) {
    x = tf.reshape(tf.pad(tf.reshape(x, [1, h * w, 1, c]), [[0, 0], [0, 0], [0, sx - 1], [0, 0]]), [1, h, w * sx, c]);
    w *= sx;
    x = tf.slice(x, [0, 0, 0, 0], [1, h, w - (sx - 1), c]);
    w -= sx - 1;
  }
  if (sy > 1) {
    x = tf.reshape(tf.pad(tf.reshape(x, [1, h, 1, w * c]), [[0, 0], [0, 0], [0, sy - 1], [0, 0]]), [1, h * sy, w, c]);
    x = tf.slice(x, [0, 0, 0, 0], [1, h * sy - (sy - 1), w, c]);
  }
  return x;
}

/** Pads (positive) or crops (negative) the two spatial axes. */
function padOrCrop(x: tf.Tensor4D, [top, bottom]: [number, number], [left, right]: [number, number]): tf.Tensor4D {
  const padding: [number, number][] = [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]];
  if (padding.some(([a, b]) => a > 0 || b > 0)) x = tf.pad(x, padding);
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [, h, w, c] = x.shape;
    const t = Math.max(-top, 0);
    const l = Math.max(-left, 0);
    x = tf.slice(x, [0, t, l, 0], [1, h - t - Math.max(-bottom, 0), w - l - Math.max(-right, 0), c]);
  }
  return x;
}

/**
 * Whether `buildPlan` gives this node a backward pass (the same cases as `makeStep`), so that
 * layers before it can serve as feature layers.
 */
export function canBackpropagate(node: GraphNode, logits: string): boolean {
  switch (node.className) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const g = convGeometry(node);
      return !!g && g.dilations[0] === 1 && g.dilations[1] === 1 && isActivation(activationOf(node, logits));
    }
    case 'Dense':
      return node.shape.length === 2 && isActivation(activationOf(node, logits));
    case 'BatchNormalization':
      return isChannelsLastBatchNorm(node);
    case 'Activation':
    case 'ReLU':
      return standaloneActivation(node) !== undefined;
    case 'GlobalAveragePooling2D':
      return node.config['dataFormat'] !== 'channelsFirst';
    case 'Reshape':
    case 'Flatten':
    case 'ZeroPadding2D':
    case 'Add':
      return true;
    default:
      return IDENTITY_LAYERS.has(node.className);
  }
}

/** Whether the node maps its input affinely (what CAM needs between global pooling and the logits). */
export function isAffine(node: GraphNode, logits: string): boolean {
  switch (node.className) {
    case 'Dense':
      return activationOf(node, logits) === 'linear';
    case 'Conv2D': {
      const g = convGeometry(node);
      return !!g && g.kernel[0] === 1 && g.kernel[1] === 1 && activationOf(node, logits) === 'linear';
    }
    case 'BatchNormalization':
    case 'Reshape':
    case 'Flatten':
      return true;
    default:
      return IDENTITY_LAYERS.has(node.className);
  }
}
