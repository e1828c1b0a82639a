import * as tf from '@tensorflow/tfjs-core';
import { type Activation, activationBackward, applyActivation, isActivation, isFusable } from './activations.js';
import { WhyCamError } from '../errors.js';
import type { GraphNode } from './graph.js';
import type { Step } from './plan.js';
import type { WeightStore } from './weights.js';

/**
 * What the engine knows about each Keras layer class, one record per class: whether it runs the
 * layer with its own ops, how (forward and backward), whether the layer is affine, and whether it
 * only changes the shape. Planning, feature-layer search, CAM and head detection all read this
 * table, so they agree by construction. A class not listed runs through tfjs-layers, forward only.
 */
export interface LayerKind {
  /**
   * Whether the engine runs this node with its own ops (`ops`); when false, tfjs-layers runs it
   * forward only, and nothing before it can serve as a feature layer.
   */
  ownOps(node: GraphNode, logits: string): boolean;
  /** Whether the ops' backward pass holds for this node (default: whenever `ownOps`). */
  backpropagates?(node: GraphNode, logits: string): boolean;
  /** Forward and backward for the group this node heads (itself and any layers fused after it). */
  ops(context: StepContext): StepOps;
  /** Maps its input affinely (what CAM needs between global pooling and the logits). */
  affine(node: GraphNode, logits: string): boolean;
  /** Only reshapes, or is the identity at inference: looked through when finding the softmax. */
  shapeOnly?: boolean;
  /**
   * Layers folded into this one's step when nothing exposed sits between: `batchnorm-activation`
   * (a conv / dense layer with no activation of its own takes a channels-last BatchNorm, then a
   * fusable activation), `activation` (any standalone activation).
   */
  fuses?: 'batchnorm-activation' | 'activation';
}

export type StepBase = Pick<Step, 'name' | 'covers' | 'inputs' | 'shape'>;

/** What a layer kind builds its ops from. */
export interface StepContext {
  /** The head node first, then the layers fused after it. */
  group: readonly GraphNode[];
  base: StepBase;
  inputShape(i?: number): number[];
  logits: string;
  weights: WeightStore;
}

export interface StepOps {
  forward(inputs: tf.Tensor[]): tf.Tensor;
  /** dL/d(each input) from dL/d(output) and the output itself, built from forward ops only. */
  backward(dy: tf.Tensor, y: tf.Tensor): tf.Tensor[];
}

type Padding = 'same' | 'valid';

interface ConvGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
}

const never = (): boolean => false;
const always = (): boolean => true;

/** Dropout and noise layers: the identity at inference. */
const IDENTITY: LayerKind = {
  ownOps: always,
  ops: () => ({ forward: identityForward, backward: (dy) => [dy] }),
  affine: always,
  shapeOnly: true,
};

const CONV: Omit<LayerKind, 'affine'> = {
  ownOps: (node, logits) => convGeometry(node) !== undefined && isActivation(activationOf(node, logits)),
  backpropagates: (node, logits) => CONV.ownOps(node, logits) && undilated(convGeometry(node)!),
  ops: (c) => {
    const [head] = c.group;
    const { act, bn } = fusedParts(c);
    const [kernel, bias] = c.weights.get(`${c.base.covers.join('+')}:folded`, () => foldedWeights(head!, bn));
    const build = head!.className === 'Conv2D' ? convOps : depthwiseOps;
    return build(c.base, kernel!, bias!, act, convGeometry(head!)!, c.inputShape(), c.weights);
  },
  fuses: 'batchnorm-activation',
};

const STANDALONE_ACTIVATION: LayerKind = {
  ownOps: (node) => standaloneActivation(node) !== undefined,
  ops: ({ group: [head] }) => {
    const act = standaloneActivation(head!)!;
    return {
      forward: ([x]) => (act === 'linear' ? tf.clone(x!) : applyActivation(x!, act)),
      backward: (dy, y) => [activationBackward(dy, y, act)],
    };
  },
  affine: never,
};

const RESHAPE: LayerKind = {
  ownOps: always,
  ops: ({ base, inputShape }) => {
    const from = inputShape();
    return {
      forward: ([x]) => tf.reshape(x!, base.shape as number[]),
      backward: (dy) => [tf.reshape(dy, from)],
    };
  },
  affine: always,
  shapeOnly: true,
};

export const LAYER_KINDS: Readonly<Record<string, LayerKind>> = {
  Conv2D: {
    ...CONV,
    affine: (node, logits) => {
      const g = convGeometry(node);
      return !!g && g.kernel[0] === 1 && g.kernel[1] === 1 && activationOf(node, logits) === 'linear';
    },
  },
  DepthwiseConv2D: { ...CONV, affine: never },
  Dense: {
    ownOps: (node, logits) => isActivation(activationOf(node, logits)),
    backpropagates: (node, logits) => node.shape.length === 2 && isActivation(activationOf(node, logits)),
    ops: (c) => {
      const { act, bn } = fusedParts(c);
      const [kernel, bias] = c.weights.get(`${c.base.covers.join('+')}:folded`, () => foldedWeights(c.group[0]!, bn));
      return denseOps(c.base, kernel!, bias!, act);
    },
    affine: (node, logits) => activationOf(node, logits) === 'linear',
    fuses: 'batchnorm-activation',
  },
  BatchNormalization: {
    ownOps: (node) => isChannelsLastBatchNorm(node),
    ops: (c) => {
      const [head] = c.group;
      const { act } = fusedParts(c);
      const [scale, shift] = c.weights.get(`${head!.name}:affine`, () => batchNormAffine(head!));
      return affineOps(scale!, shift!, act);
    },
    affine: always,
    fuses: 'activation',
  },
  Activation: STANDALONE_ACTIVATION,
  ReLU: STANDALONE_ACTIVATION,
  GlobalAveragePooling2D: {
    ownOps: (node) => node.config['dataFormat'] !== 'channelsFirst',
    ops: ({ base, inputShape, weights }) => {
      const [, h, w, c] = inputShape();
      return {
        forward: ([x]) => tf.reshape(tf.mean(x!, [1, 2]), base.shape as number[]),
        // Spread evenly over the map: one broadcasting multiply by a kept 1/(h·w) grid (Tile then
        // Multiply cost two kernels, and Tile alone 2 ms a frame on WASM).
        backward: (dy) => {
          const [spread] = weights.get(`${base.name}:spread`, () => [tf.fill([1, h!, w!, 1], 1 / (h! * w!))]);
          return [tf.mul(tf.reshape(dy, [1, 1, 1, c!]), spread!)];
        },
      };
    },
    affine: never,
  },
  Reshape: RESHAPE,
  Flatten: RESHAPE,
  ZeroPadding2D: {
    ownOps: always,
    ops: ({ group: [head], inputShape }) => {
      const [[top, bottom], [left, right]] = head!.config['padding'] as [[number, number], [number, number]];
      const [, h, w, c] = inputShape();
      return {
        forward: ([x]) =>
          tf.pad(x!, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ]),
        backward: (dy) => [tf.slice(dy, [0, top, left, 0], [1, h!, w!, c!])],
      };
    },
    affine: never,
  },
  Add: {
    ownOps: always,
    ops: ({ group: [head] }) => ({
      forward: (xs) => tf.addN(xs),
      backward: (dy) => head!.inputs.map(() => dy),
    }),
    affine: never,
  },
  Dropout: IDENTITY,
  SpatialDropout1D: IDENTITY,
  SpatialDropout2D: IDENTITY,
  GaussianNoise: IDENTITY,
  GaussianDropout: IDENTITY,
  AlphaDropout: IDENTITY,
};

function kindOf(node: GraphNode): LayerKind | undefined {
  return Object.hasOwn(LAYER_KINDS, node.className) ? LAYER_KINDS[node.className] : undefined;
}

/** Whether the engine runs this node with its own ops (else tfjs-layers runs it, forward only). */
export function hasOwnOps(node: GraphNode, logits: string): boolean {
  return kindOf(node)?.ownOps(node, logits) ?? false;
}

/** Whether the step this node heads has a backward pass, so that layers before it can serve as feature layers. */
export function canBackpropagate(node: GraphNode, logits: string): boolean {
  const kind = kindOf(node);
  if (!kind?.ownOps(node, logits)) return false;
  return kind.backpropagates?.(node, logits) ?? true;
}

/** Whether the node maps its input affinely (what CAM needs between global pooling and the logits). */
export function isAffine(node: GraphNode, logits: string): boolean {
  return kindOf(node)?.affine(node, logits) ?? false;
}

/** Whether the node only reshapes or is the identity at inference. */
export function isShapeOnly(node: GraphNode): boolean {
  return kindOf(node)?.shapeOnly ?? false;
}

/** Which layers may be fused after this node (see `LayerKind.fuses`). */
export function fusesAfter(node: GraphNode, logits: string): LayerKind['fuses'] {
  const kind = kindOf(node);
  if (!kind?.fuses || !kind.ownOps(node, logits)) return undefined;
  if (kind.fuses === 'batchnorm-activation' && activationOf(node, logits) !== 'linear') return undefined;
  return kind.fuses;
}

/** The ops of the step `group` forms; call only when the head `hasOwnOps`. */
export function stepOps(context: StepContext): StepOps {
  return kindOf(context.group[0]!)!.ops(context);
}

export function identityForward(inputs: tf.Tensor[]): tf.Tensor {
  return tf.clone(inputs[0]!);
}

/** The activation the group ends in (a fused standalone one, or the head's own) and its fused BatchNorm. */
function fusedParts({ group, logits }: StepContext): { act: Activation; bn: GraphNode | undefined } {
  const head = group[0]!;
  const actNode = group.find((g) => g.className === 'Activation' || g.className === 'ReLU');
  const act = actNode ? standaloneActivation(actNode)! : activationOf(head, logits);
  if (!isActivation(act)) throw new Error(`internal: ${head.name} has no engine activation`);
  return { act, bn: group.find((g) => g.className === 'BatchNormalization') };
}

function undilated(g: ConvGeometry): boolean {
  return g.dilations[0] === 1 && g.dilations[1] === 1;
}

/** The layer's own activation; the logit layer counts as linear (its softmax is applied separately). */
export function activationOf(node: GraphNode, logits: string): Activation | 'softmax' | string {
  const act = (node.config['activation'] as string | undefined) ?? 'linear';
  return node.name === logits && act === 'softmax' ? 'linear' : act;
}

export function standaloneActivation(node: GraphNode): Activation | undefined {
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

export function isChannelsLastBatchNorm(node: GraphNode): boolean {
  const axis = node.config['axis'] as number | number[];
  const a = Array.isArray(axis) ? axis : [axis];
  return a.length === 1 && (a[0] === -1 || a[0] === node.shape.length - 1);
}

export function convGeometry(node: GraphNode): ConvGeometry | undefined {
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
  const kernelScale =
    layer.className === 'DepthwiseConv2D' ? tf.reshape(scale!, [1, 1, kernel.shape[2]!, kernel.shape[3]!]) : scale!;
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

function affineOps(scale: tf.Tensor, shift: tf.Tensor, act: Activation): StepOps {
  return {
    forward: ([x]) => applyActivation(tf.add(tf.mul(x!, scale), shift), act),
    backward: (dy, y) => [tf.mul(activationBackward(dy, y, act), scale)],
  };
}

function denseOps(base: StepBase, kernel: tf.Tensor, bias: tf.Tensor, act: Activation): StepOps {
  if (base.shape.length !== 2)
    throw new WhyCamError('unsupported-model', `Dense layer "${base.name}" is applied to a tensor of rank > 2.`);
  const fused = isFusable(act) ? act : undefined;
  return {
    forward: ([x]) => {
      const y = tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias, activation: fused ?? 'linear' });
      return fused ? y : applyActivation(y, act);
    },
    backward: (dy, y) => [tf.matMul(activationBackward(dy, y, act) as tf.Tensor2D, kernel as tf.Tensor2D, false, true)],
  };
}

function convOps(
  base: StepBase,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  act: Activation,
  g: ConvGeometry,
  inputShape: number[],
  weights: WeightStore,
): StepOps {
  const fused = isFusable(act) ? act : undefined;
  const pointwise = g.kernel[0] === 1 && g.kernel[1] === 1 && g.strides[0] === 1 && g.strides[1] === 1;
  return {
    forward: ([x]) => {
      const y = tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: kernel as tf.Tensor4D,
        strides: g.strides,
        pad: g.padding,
        dilations: g.dilations,
        bias,
        activation: fused ?? 'linear',
      });
      return fused ? y : applyActivation(y, act);
    },
    // Undilated only (see `undilated`).
    backward: (dy, y) => {
      const dz = activationBackward(dy, y, act) as tf.Tensor4D;
      if (pointwise) {
        // A 1×1 conv is a matrix product over channels; its input gradient is the product with the transpose.
        const [transposed] = weights.get(`${base.name}:transposed`, () => [tf.transpose(kernel, [0, 1, 3, 2])]);
        return [tf.conv2d(dz, transposed as tf.Tensor4D, 1, 'valid')];
      }
      return [
        tf.conv2dTranspose(
          dz,
          kernel as tf.Tensor4D,
          inputShape as [number, number, number, number],
          g.strides,
          g.padding,
        ),
      ];
    },
  };
}

function depthwiseOps(
  base: StepBase,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  act: Activation,
  g: ConvGeometry,
  inputShape: number[],
  weights: WeightStore,
): StepOps {
  const fused = isFusable(act) ? act : undefined;
  const [kh, kw, channels, multiplier] = kernel.shape as [number, number, number, number];
  const [, inH, inW] = inputShape as [number, number, number, number];
  const [, outH, outW] = base.shape as [number, number, number, number];
  // The input gradient of a depthwise conv is a depthwise conv of the (stride-dilated, padded)
  // output gradient with the kernel rotated by 180°, one output channel at a time (undilated only).
  const padTop = padBefore(inH, outH, kh, g.strides[0], g.padding);
  const padLeft = padBefore(inW, outW, kw, g.strides[1], g.padding);
  return {
    forward: ([x]) => {
      const y = tf.fused.depthwiseConv2d({
        x: x as tf.Tensor4D,
        filter: kernel as tf.Tensor4D,
        strides: g.strides,
        pad: g.padding,
        dilations: g.dilations,
        bias,
        activation: fused ?? 'linear',
      });
      return fused ? y : applyActivation(y, act);
    },
    backward: (dy, y) => {
      const [rotated] = weights.get(`${base.name}:rotated`, () => [
        tf.reshape(tf.reverse(kernel, [0, 1]), [kh, kw, channels * multiplier, 1]),
      ]);
      let dz = activationBackward(dy, y, act) as tf.Tensor4D;
      dz = dilate(dz, g.strides[0], g.strides[1]);
      const rows: [number, number] = [kh - 1 - padTop, inH + padTop - dz.shape[1]];
      const cols: [number, number] = [kw - 1 - padLeft, inW + padLeft - dz.shape[2]];
      // Padding within the conv where none is negative (the usual case): one kernel fewer than a separate pad.
      const dx = [...rows, ...cols].every((p) => p >= 0)
        ? tf.depthwiseConv2d(dz, rotated as tf.Tensor4D, 1, [[0, 0], rows, cols, [0, 0]])
        : tf.depthwiseConv2d(padOrCrop(dz, rows, cols), rotated as tf.Tensor4D, 1, 'valid');
      return [multiplier === 1 ? dx : tf.sum(tf.reshape(dx, [1, inH, inW, channels, multiplier]), -1)];
    },
  };
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
    x = tf.reshape(
      tf.pad(tf.reshape(x, [1, h * w, 1, c]), [
        [0, 0],
        [0, 0],
        [0, sx - 1],
        [0, 0],
      ]),
      [1, h, w * sx, c],
    );
    w *= sx;
    x = tf.slice(x, [0, 0, 0, 0], [1, h, w - (sx - 1), c]);
    w -= sx - 1;
  }
  if (sy > 1) {
    x = tf.reshape(
      tf.pad(tf.reshape(x, [1, h, 1, w * c]), [
        [0, 0],
        [0, 0],
        [0, sy - 1],
        [0, 0],
      ]),
      [1, h * sy, w, c],
    );
    x = tf.slice(x, [0, 0, 0, 0], [1, h * sy - (sy - 1), w, c]);
  }
  return x;
}

/** Pads (positive) or crops (negative) the two spatial axes. */
function padOrCrop(x: tf.Tensor4D, [top, bottom]: [number, number], [left, right]: [number, number]): tf.Tensor4D {
  const padding: [number, number][] = [
    [0, 0],
    [Math.max(top, 0), Math.max(bottom, 0)],
    [Math.max(left, 0), Math.max(right, 0)],
    [0, 0],
  ];
  if (padding.some(([a, b]) => a > 0 || b > 0)) x = tf.pad(x, padding);
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [, h, w, c] = x.shape;
    const t = Math.max(-top, 0);
    const l = Math.max(-left, 0);
    x = tf.slice(x, [0, t, l, 0], [1, h - t - Math.max(-bottom, 0), w - l - Math.max(-right, 0), c]);
  }
  return x;
}
