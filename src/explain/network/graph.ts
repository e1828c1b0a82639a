/**
 * The engine's one neutral graph: operations it knows, with their weights, in topological order.
 * Every model format has an importer in `models/importers/` that builds this graph; planning,
 * differentiation, CAM and the sanity check read only this, never a format.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../errors.js';
import type { Activation } from './activations.js';

/** Explicit zero (or −∞ for max pooling) padding of the two spatial axes: [top, bottom, left, right]. */
export type Padding4 = readonly [number, number, number, number];

/** 'same' and 'valid' as TensorFlow defines them, or explicit padding (Caffe, ONNX). */
export type ConvPadding = 'same' | 'valid' | Padding4;

export interface ConvAttrs {
  kernel: readonly [number, number];
  strides: readonly [number, number];
  dilations: readonly [number, number];
  padding: ConvPadding;
  /** Applied to the output; only activations that need nothing but the output (see activations.ts). */
  activation: Activation;
}

/**
 * Pooling over explicit windows. `pads` is applied before the windows are laid out, and includes
 * any extra rows / columns a format adds by rounding the output size up (Caffe).
 */
export interface PoolAttrs {
  kernel: readonly [number, number];
  strides: readonly [number, number];
  pads: Padding4;
}

/** Every operation the engine plans and differentiates. Tensors live in `GraphNode.weights`, never here. */
export type Op =
  | { type: 'input' }
  /** y[..., c] = x[..., order[c]] · scale[c] + shift[c]: a format's input normalisation (BGR, mean, std). */
  | { type: 'normalize'; order: readonly number[]; scale: readonly number[]; shift: readonly number[] }
  /** weights: kernel [kh, kw, in, out], bias [out] (optional). */
  | ({ type: 'conv2d' } & ConvAttrs)
  /** weights: kernel [kh, kw, in, multiplier], bias [in · multiplier] (optional). */
  | ({ type: 'depthwiseConv2d' } & ConvAttrs)
  /** weights: kernel [in, out], bias [out] (optional). */
  | { type: 'dense'; activation: Activation }
  /** Inference batch norm over the last axis. weights: mean, variance, gamma and beta (each optional but mean / variance). */
  | { type: 'batchNorm'; epsilon: number }
  | {
      type: 'activation';
      activation: Activation;
      /** LeakyReLU's slope for negative inputs; HardSigmoid's slope (0.2 unless given). */
      alpha?: number;
      /** HardSigmoid's offset (0.5 unless given). */
      beta?: number;
    }
  | ({ type: 'maxPool' } & PoolAttrs)
  /**
   * Average pooling; a window's divisor counts its positions inside the input grown by `countPads`
   * (0s: TensorFlow's, padding never counted; Caffe counts its symmetric padding but not rounding).
   */
  | ({ type: 'avgPool'; countPads: Padding4 } & PoolAttrs)
  /** Mean over height and width; `keepDims` gives [1, 1, 1, C] (Caffe, ONNX) instead of [1, C] (Keras). */
  | { type: 'globalAvgPool'; keepDims: boolean }
  /** Along the channel (last) axis. */
  | { type: 'concat' }
  | { type: 'add' }
  /** Each value clamped to [min, max]: ONNX's Clip other than ReLU6, and a quantized output's range. */
  | { type: 'clip'; min: number; max: number }
  /**
   * Elementwise product; the second input may be [1, 1, 1, C]: a squeeze-and-excitation block's
   * channel weights scaling the first.
   */
  | { type: 'mul' }
  /** Across channels, as `tf.localResponseNormalization` defines it. */
  | { type: 'lrn'; depthRadius: number; bias: number; alpha: number; beta: number }
  | { type: 'pad'; pads: Padding4 }
  /** To the node's own shape. */
  | { type: 'reshape' }
  /** To [1, n]; `chw` flattens channel-major, the order Caffe's and ONNX's fully connected weights expect. */
  | { type: 'flatten'; order: 'hwc' | 'chw' }
  /** Dropout and noise: the identity at inference. */
  | { type: 'identity' }
  | { type: 'softmax' }
  /**
   * A layer a format's own runtime runs, forward only (a Keras layer class the engine has no ops
   * for). Nothing before it can be a feature layer; it is named in the message that says so.
   */
  | { type: 'opaque'; forward: (inputs: tf.Tensor[]) => tf.Tensor };

export type OpType = Op['type'];

/** One operation of the graph. */
export interface GraphNode {
  name: string;
  op: Op;
  /** The format's own name for what this node came from (`Conv2D`, `Convolution`), for messages. */
  sourceType: string;
  /** Names of the nodes feeding this one, in call order. */
  inputs: string[];
  /** Names of the nodes this one feeds. */
  consumers: string[];
  /** Output shape, batch dimension 1, channels last. */
  shape: number[];
  /** The node's weights by role (kernel, bias, gamma, beta, mean, variance); shared, never disposed by a step. */
  weights: Readonly<Record<string, tf.Tensor>>;
}

/** What an importer gives for each node; `consumers` are derived. */
export type NodeSpec = Omit<GraphNode, 'consumers'>;

/** The operations of a model in topological order, with their connections. */
export interface ModelGraph {
  nodes: GraphNode[];
  byName: Map<string, GraphNode>;
  input: string;
  output: string;
  /** Frees what the importer made (weights, and a format runtime's model if it kept one). */
  dispose(): void;
}

/**
 * The graph of `specs` (in any order that lists a node's inputs before their use is not needed):
 * sorted topologically, keeping the importer's order among ready nodes so that reports list layers
 * the way the format does; `output` is the node whose result is the model's output.
 */
export function buildGraph(specs: readonly NodeSpec[], output: string, dispose: () => void): ModelGraph {
  const nodes = new Map<string, GraphNode>();
  for (const spec of specs) {
    if (nodes.has(spec.name)) throw new WhyCamError('unsupported-model', `Two layers are named "${spec.name}".`);
    nodes.set(spec.name, { ...spec, inputs: [...spec.inputs], consumers: [] });
  }
  for (const node of nodes.values()) {
    for (const input of node.inputs) {
      const from = nodes.get(input);
      if (!from)
        throw new WhyCamError('unsupported-model', `Layer "${node.name}" reads "${input}", which no layer makes.`);
      from.consumers.push(node.name);
    }
  }
  if (!nodes.has(output))
    throw new WhyCamError('unsupported-model', `The model's output "${output}" is not one of its layers.`);
  const order = new Map(specs.map((s, i) => [s.name, i]));
  const pending = new Map([...nodes.values()].map((n) => [n.name, n.inputs.length]));
  const ready = [...nodes.values()].filter((n) => n.inputs.length === 0).map((n) => n.name);
  const sorted: GraphNode[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => order.get(a)! - order.get(b)!);
    const node = nodes.get(ready.shift()!)!;
    sorted.push(node);
    for (const c of node.consumers) {
      const left = pending.get(c)! - 1;
      pending.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  if (sorted.length !== nodes.size) throw new WhyCamError('unsupported-model', "The model's graph has a cycle.");
  const relevant = ancestorsIn(nodes, output);
  const inputs = sorted.filter((n) => n.inputs.length === 0 && relevant.has(n.name));
  if (inputs.length !== 1 || inputs[0]!.op.type !== 'input') {
    throw new WhyCamError(
      'unsupported-model',
      `The model's output depends on ${inputs.length} inputs.`,
      'WhyCam explains image classifiers with one image input and one class-score output.',
    );
  }
  return { nodes: sorted, byName: nodes, input: inputs[0]!.name, output, dispose };
}

/**
 * Nodes every path from the input to `target` passes through: the places where the network can
 * be cut into a feature extractor and a head. In a plain chain that is every node.
 */
export function cutPoints(graph: ModelGraph, target: string): Set<string> {
  const relevant = ancestors(graph, target);
  const chain = graph.nodes.filter((n) => relevant.has(n.name));
  const position = new Map(chain.map((n, i) => [n.name, i]));
  const bridged = new Array<boolean>(chain.length).fill(false);
  for (const node of chain) {
    const to = position.get(node.name)!;
    for (const input of node.inputs) {
      for (let i = position.get(input)! + 1; i < to; i++) bridged[i] = true;
    }
  }
  return new Set(chain.filter((_, i) => !bridged[i]).map((n) => n.name));
}

/** `target` and every node it depends on. */
export function ancestors(graph: ModelGraph, target: string): Set<string> {
  return ancestorsIn(graph.byName, target);
}

function ancestorsIn(nodes: ReadonlyMap<string, GraphNode>, target: string): Set<string> {
  const found = new Set<string>();
  const stack = [target];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (found.has(name)) continue;
    found.add(name);
    stack.push(...nodes.get(name)!.inputs);
  }
  return found;
}
