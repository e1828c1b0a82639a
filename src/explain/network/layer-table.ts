import * as tf from '@tensorflow/tfjs-core';
import { type Activation, activationBackward, applyActivation, isActivation } from './activations.js';
import { affineOps, convOps, denseOps, depthwiseOps, identityForward } from './backward-ops.js';
import { batchNormAffine, foldedWeights } from './batchnorm-fold.js';
import type { GraphNode } from './graph.js';
import {
  activationOf,
  convGeometry,
  isChannelsLastBatchNorm,
  standaloneActivation,
  undilated,
} from './keras-config.js';
import type { StepContext, StepOps } from './step.js';

/**
 * What the engine knows about each Keras layer class, one record per class: whether it runs the
 * layer with its own ops, how (forward and backward), whether the layer is affine, and whether it
 * only changes the shape. Planning, feature-layer search, CAM and head detection all read this
 * table, so they agree by construction. A class not listed runs through tfjs-layers, forward only.
 */
interface LayerKind {
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

/** The activation the group ends in (a fused standalone one, or the head's own) and its fused BatchNorm. */
function fusedParts({ group, logits }: StepContext): { act: Activation; bn: GraphNode | undefined } {
  const head = group[0]!;
  const actNode = group.find((g) => g.className === 'Activation' || g.className === 'ReLU');
  const act = actNode ? standaloneActivation(actNode)! : activationOf(head, logits);
  if (!isActivation(act)) throw new Error(`internal: ${head.name} has no engine activation`);
  return { act, bn: group.find((g) => g.className === 'BatchNormalization') };
}
