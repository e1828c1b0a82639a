import * as tf from '@tensorflow/tfjs-core';
import { type Activation, activationBackward, applyActivation, foldsIntoStep } from './activations.js';
import { affineOps, convOps, denseOps, depthwiseOps, identityForward } from './backward-ops.js';
import { batchNormAffine, foldedWeights } from './batchnorm-fold.js';
import type { GraphNode, Op, OpType } from './graph.js';
import { lrnOps } from './lrn-ops.js';
import { avgPoolOps, globalAvgPoolOps, maxPoolOps } from './pooling-ops.js';
import { concatOps, softmaxOps } from './softmax-ops.js';
import type { StepContext, StepOps } from './step.js';

/**
 * What the engine knows about each operation of the neutral graph, one record per op type: how
 * it runs (forward and backward), whether it is affine, and whether it only changes the shape.
 * Planning, feature-layer search, CAM and head detection all read this table, so they agree by
 * construction.
 */
interface OpKind {
  /** Whether the ops' backward pass holds for this node (default: always). */
  backpropagates?(node: GraphNode): boolean;
  /** Forward and backward for the group this node heads (itself and any nodes fused after it). */
  ops(context: StepContext): StepOps;
  /** Maps its input affinely (what CAM needs between global pooling and the logits). */
  affine(node: GraphNode): boolean;
  /** Only reshapes, or is the identity at inference: looked through when finding the softmax. */
  shapeOnly?: boolean;
  /**
   * Nodes folded into this one's step when nothing exposed sits between: `batchnorm-activation`
   * (a conv / dense node with no activation of its own takes a BatchNorm, then an activation),
   * `activation` (an activation alone).
   */
  fuses?: 'batchnorm-activation' | 'activation';
}

type OpOf<T extends OpType> = Extract<Op, { type: T }>;

function opOf<T extends OpType>(node: GraphNode, type: T): OpOf<T> {
  if (node.op.type !== type) throw new Error(`internal: ${node.name} is ${node.op.type}, not ${type}`);
  return node.op as OpOf<T>;
}

const never = (): boolean => false;
const always = (): boolean => true;

const IDENTITY: OpKind = {
  ops: () => ({ forward: identityForward, backward: (dy) => [dy] }),
  affine: always,
  shapeOnly: true,
};

const RESHAPE: OpKind = {
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

function undilated(node: GraphNode): boolean {
  const op = node.op as OpOf<'conv2d'>;
  return op.dilations[0] === 1 && op.dilations[1] === 1;
}

const CONV: Omit<OpKind, 'affine'> = {
  backpropagates: undilated,
  ops: (c) => {
    const head = c.group[0]!;
    const op = head.op as OpOf<'conv2d'> | OpOf<'depthwiseConv2d'>;
    const { act, bn } = fusedParts(c.group, op.activation);
    const [kernel, bias] = c.weights.get(`${c.base.covers.join('+')}:folded`, () => foldedWeights(head, bn));
    const build = op.type === 'conv2d' ? convOps : depthwiseOps;
    return build(c.base, kernel!, bias!, act, { ...op, activation: act }, c.inputShape(), c.weights);
  },
  fuses: 'batchnorm-activation',
};

export const OP_KINDS: Readonly<Record<Exclude<OpType, 'input' | 'opaque'>, OpKind>> = {
  normalize: {
    // Only ever before the first feature layer; its backward is never needed but costs nothing.
    ops: ({ group: [head], weights }) => {
      const op = opOf(head!, 'normalize');
      // One 1×1 convolution does the channel reorder, the scale and the shift in one kernel.
      const [matrix, shift] = weights.get(`${head!.name}:normalize`, () => {
        const m = new Float32Array(9);
        op.order.forEach((from, to) => (m[from * 3 + to] = op.scale[to]!));
        return [tf.tensor4d(m, [1, 1, 3, 3]), tf.tensor1d([...op.shift])];
      });
      return {
        forward: ([x]) =>
          tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: matrix as tf.Tensor4D,
            strides: 1,
            pad: 'valid',
            bias: shift,
          }),
        backward: (dy) => [
          tf.conv2d(dy as tf.Tensor4D, tf.transpose(matrix!, [0, 1, 3, 2]) as tf.Tensor4D, 1, 'valid'),
        ],
      };
    },
    affine: always,
  },
  conv2d: {
    ...CONV,
    affine: (node) => {
      const op = opOf(node, 'conv2d');
      const unpadded = typeof op.padding === 'string' || op.padding.every((p) => p === 0);
      return op.kernel[0] === 1 && op.kernel[1] === 1 && op.activation === 'linear' && unpadded;
    },
  },
  depthwiseConv2d: { ...CONV, affine: never },
  dense: {
    backpropagates: (node) => node.shape.length === 2,
    ops: (c) => {
      const { act, bn } = fusedParts(c.group, opOf(c.group[0]!, 'dense').activation);
      const [kernel, bias] = c.weights.get(`${c.base.covers.join('+')}:folded`, () => foldedWeights(c.group[0]!, bn));
      return denseOps(c.base, kernel!, bias!, act);
    },
    affine: (node) => opOf(node, 'dense').activation === 'linear',
    fuses: 'batchnorm-activation',
  },
  batchNorm: {
    ops: (c) => {
      const head = c.group[0]!;
      const { act } = fusedParts(c.group, 'linear');
      const [scale, shift] = c.weights.get(`${head.name}:affine`, () => batchNormAffine(head));
      return affineOps(scale!, shift!, act);
    },
    affine: always,
    fuses: 'activation',
  },
  activation: {
    ops: ({ group: [head] }) => {
      const { activation: act, alpha, beta } = opOf(head!, 'activation');
      return {
        forward: ([x]) => (act === 'linear' ? tf.clone(x!) : applyActivation(x!, act, alpha, beta)),
        backward: (dy, y, [x]) => [activationBackward(dy, y, act, x, alpha)],
      };
    },
    affine: (node) => opOf(node, 'activation').activation === 'linear',
  },
  maxPool: {
    ops: ({ group: [head], base, inputShape, weights }) =>
      maxPoolOps(opOf(head!, 'maxPool'), inputShape(), base.shape, weights, base.name),
    affine: never,
  },
  avgPool: {
    ops: ({ group: [head], base, inputShape, weights }) =>
      avgPoolOps(opOf(head!, 'avgPool'), inputShape(), base.shape, weights, base.name),
    affine: always,
  },
  globalAvgPool: {
    ops: ({ group: [head], base, inputShape, weights }) =>
      globalAvgPoolOps(opOf(head!, 'globalAvgPool').keepDims, inputShape(), weights, base.name),
    // Not counted as affine: CAM looks for it as the pooling itself.
    affine: never,
  },
  concat: {
    ops: ({ group: [head], inputShape }) => concatOps(head!.inputs.map((_, i) => inputShape(i).at(-1)!)),
    affine: never,
  },
  add: {
    ops: ({ group: [head] }) => ({
      forward: (xs) => tf.addN(xs),
      backward: (dy) => head!.inputs.map(() => dy),
    }),
    affine: never,
  },
  clip: {
    ops: ({ group: [head] }) => {
      const { min, max } = opOf(head!, 'clip');
      return {
        forward: ([x]) => tf.clipByValue(x!, min, max),
        // The gradient passes where the output is strictly inside the range (a function of y alone).
        backward: (dy, y) => [tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(y, min), tf.less(y, max)), 'float32'))],
      };
    },
    affine: never,
  },
  mul: {
    ops: ({ inputShape }) => {
      const [a, b] = [inputShape(0), inputShape(1)];
      // The second input may be broadcast over height and width: its gradient sums over them.
      const broadcast = a.join() !== b.join();
      return {
        forward: ([x, s]) => tf.mul(x!, s!),
        backward: (dy, _y, [x, s]) => {
          const ds = tf.mul(dy, x!);
          return [tf.mul(dy, s!), broadcast ? tf.sum(ds, [1, 2], true) : ds];
        },
      };
    },
    affine: never,
  },
  lrn: {
    ops: ({ group: [head], weights, base }) => lrnOps(opOf(head!, 'lrn'), weights, base.name),
    affine: never,
  },
  pad: {
    ops: ({ group: [head], inputShape }) => {
      const [top, bottom, left, right] = opOf(head!, 'pad').pads;
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
  reshape: RESHAPE,
  flatten: {
    ops: (c) => {
      if (opOf(c.group[0]!, 'flatten').order === 'hwc') return RESHAPE.ops(c);
      const from = c.inputShape();
      const [, h, w, ch] = from;
      return {
        forward: ([x]) => tf.reshape(tf.transpose(x!, [0, 3, 1, 2]), c.base.shape as number[]),
        backward: (dy) => [tf.transpose(tf.reshape(dy, [1, ch!, h!, w!]), [0, 2, 3, 1])],
      };
    },
    affine: always,
    shapeOnly: true,
  },
  identity: IDENTITY,
  softmax: { ops: () => softmaxOps(), affine: never },
};

function kindOf(node: GraphNode): OpKind | undefined {
  const type = node.op.type;
  return type === 'input' || type === 'opaque' ? undefined : OP_KINDS[type];
}

/** Whether the engine runs this node with its own ops (else a format's runtime runs it, forward only). */
export function hasOwnOps(node: GraphNode): boolean {
  return kindOf(node) !== undefined;
}

/** Whether the step this node heads has a backward pass, so that nodes before it can serve as feature layers. */
export function canBackpropagate(node: GraphNode): boolean {
  const kind = kindOf(node);
  return !!kind && (kind.backpropagates?.(node) ?? true);
}

/** Whether the node maps its input affinely (what CAM needs between global pooling and the logits). */
export function isAffine(node: GraphNode): boolean {
  return kindOf(node)?.affine(node) ?? false;
}

/** Whether the node only reshapes or is the identity at inference. */
export function isShapeOnly(node: GraphNode): boolean {
  return kindOf(node)?.shapeOnly ?? false;
}

/** Which nodes may be fused after this one (see `OpKind.fuses`). */
export function fusesAfter(node: GraphNode): OpKind['fuses'] {
  const fuses = kindOf(node)?.fuses;
  if (fuses === 'batchnorm-activation' && (node.op as { activation: Activation }).activation !== 'linear')
    return undefined;
  return fuses;
}

/** An activation node that may end a fused step (its derivative needs only the output). */
export function foldableActivation(node: GraphNode): Activation | undefined {
  // A step's own activation has no parameters: one with its own (HardSigmoid's slope) stays a node.
  const plain = node.op.type === 'activation' && node.op.alpha === undefined && node.op.beta === undefined;
  return plain && foldsIntoStep((node.op as { activation: Activation }).activation)
    ? (node.op as { activation: Activation }).activation
    : undefined;
}

/** The ops of the step `group` forms; call only when the head `hasOwnOps`. */
export function stepOps(context: StepContext): StepOps {
  return kindOf(context.group[0]!)!.ops(context);
}

/** The activation the group ends in (a fused activation node, or the head's own) and its fused BatchNorm. */
function fusedParts(group: readonly GraphNode[], own: Activation): { act: Activation; bn: GraphNode | undefined } {
  const actNode = group.slice(1).find((g) => g.op.type === 'activation');
  return {
    act: actNode ? foldableActivation(actNode)! : own,
    bn: group.slice(1).find((g) => g.op.type === 'batchNorm'),
  };
}
