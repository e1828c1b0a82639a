/**
 * Keras (TF.js LayersModel) → the engine's neutral graph. Each layer class the engine has ops for
 * becomes one node (two where a layer fuses what the engine keeps apart: a softmax or a
 * swish-like activation, a separable convolution); any other class becomes an opaque node that
 * tfjs-layers runs forward. Nested models are flattened before loading (`loadFlattened`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { WhyCamError } from '../../errors.js';
import { type Activation, activationNamed, foldsIntoStep } from '../../network/activations.js';
import {
  buildGraph,
  type ConvPadding,
  type ModelGraph,
  type NodeSpec,
  type Op,
  type Padding4,
} from '../../network/graph.js';
import { inferShape } from '../../network/shapes.js';

type Layer = LayersModel['layers'][number];
type Config = Record<string, unknown>;

/** Dropout and noise layers: the identity at inference. */
const IDENTITY_LAYERS = [
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
] as const;

/** The Keras layer classes the engine runs and differentiates itself (for messages). */
export const KERAS_LAYER_CLASSES = [
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Dense',
  'BatchNormalization',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'GlobalAveragePooling2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'ZeroPadding2D',
  'Concatenate',
  'Add',
  'Reshape',
  'Flatten',
  ...IDENTITY_LAYERS,
] as const;

const IDENTITY_CLASSES = new Set<string>(IDENTITY_LAYERS);

/**
 * The graph of a loaded LayersModel (one image input, one output). The graph reads the model's
 * weights in place and keeps the model (`sourceModel`): disposing the graph disposes the model.
 */
export function importKeras(model: LayersModel): ModelGraph & { sourceModel: LayersModel } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new WhyCamError(
      'unsupported-model',
      `The model has ${model.inputs.length} inputs and ${model.outputs.length} outputs.`,
      'WhyCam explains image classifiers with one image input and one class-score output.',
    );
  }
  const outputLayer = model.outputs[0]!.sourceLayer as Layer;
  const used = new Set<string>();
  const collect = (layer: Layer): void => {
    if (used.has(layer.name)) return;
    used.add(layer.name);
    for (const node of layer.inboundNodes) for (const l of node.inboundLayers) collect(l as Layer);
  };
  collect(outputLayer);

  // A layer split into several nodes is read by its consumers through its last node.
  const outputOf = new Map<string, string>();
  const specs: NodeSpec[] = [];
  const shapes = new Map<string, number[]>();
  const push = (spec: NodeSpec): void => {
    specs.push(spec);
    shapes.set(spec.name, spec.shape);
  };
  for (const layer of model.layers) {
    if (!used.has(layer.name)) continue;
    if (layer.inboundNodes.length > 1) {
      throw new WhyCamError(
        'unsupported-model',
        `Layer "${layer.name}" is applied more than once.`,
        'Shared layers are not supported: export the model with each layer used once.',
      );
    }
    const shape = layer.outputShape;
    if (!Array.isArray(shape) || Array.isArray(shape[0])) {
      throw new WhyCamError('unsupported-model', `Layer "${layer.name}" has more than one output.`);
    }
    const outShape = (shape as (number | null)[]).map((d) => d ?? 1);
    const inputs = (layer.inboundNodes[0]?.inboundLayers ?? []).map((l) => outputOf.get(l.name)!);
    const nodes = layerNodes(layer, inputs, outShape, (name) => shapes.get(name)!);
    for (const n of nodes) push(n);
    outputOf.set(layer.name, nodes[nodes.length - 1]!.name);
  }
  const graph = buildGraph(specs, outputOf.get(outputLayer.name)!, () => model.dispose());
  return { ...graph, sourceModel: model };
}

/** The node(s) one layer becomes. */
function layerNodes(layer: Layer, inputs: string[], shape: number[], shapeOf: (name: string) => number[]): NodeSpec[] {
  const config = layer.getConfig() as Config;
  const className = layer.getClassName();
  const name = layer.name;
  const w = layer.getWeights();
  const node = (op: Op, weights: Record<string, tf.Tensor> = {}, nodeShape = shape): NodeSpec => ({
    name,
    op,
    sourceType: className,
    inputs,
    shape: nodeShape,
    weights,
  });
  const opaque = (): NodeSpec[] => [
    node({ type: 'opaque', forward: (xs) => layer.apply(xs.length === 1 ? xs[0]! : xs) as tf.Tensor }),
  ];
  const channelsLast = config['dataFormat'] !== 'channelsFirst';
  const inShape = shapeOf(inputs[0] ?? '') ?? [];

  switch (className) {
    case 'InputLayer':
      return [node({ type: 'input' })];
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const padding = config['padding'];
      if (!channelsLast || (padding !== 'same' && padding !== 'valid')) return opaque();
      const conv = {
        type: className === 'Conv2D' ? ('conv2d' as const) : ('depthwiseConv2d' as const),
        kernel: pair(config['kernelSize']),
        strides: pair(config['strides'] ?? 1),
        dilations: pair(config['dilationRate'] ?? 1),
        padding: padding as ConvPadding,
      };
      const weights = { kernel: w[0]!, ...(config['useBias'] ? { bias: w[1]! } : {}) };
      return (
        withActivation(config['activation'], (activation) => node({ ...conv, activation }, weights), node) ?? opaque()
      );
    }
    case 'SeparableConv2D': {
      const padding = config['padding'];
      if (!channelsLast || (padding !== 'same' && padding !== 'valid')) return opaque();
      const depthwise: Op = {
        type: 'depthwiseConv2d',
        kernel: pair(config['kernelSize']),
        strides: pair(config['strides'] ?? 1),
        dilations: pair(config['dilationRate'] ?? 1),
        padding,
        activation: 'linear',
      };
      const dwName = `${name}/depthwise`;
      const dw: NodeSpec = {
        ...node(depthwise, { kernel: w[0]! }),
        name: dwName,
        shape: inferShape(dwName, depthwise, [inShape], { kernel: w[0]! }),
      };
      const pointwise = (activation: Activation): NodeSpec => ({
        ...node(
          { type: 'conv2d', kernel: [1, 1], strides: [1, 1], dilations: [1, 1], padding: 'valid', activation },
          { kernel: w[1]!, ...(config['useBias'] ? { bias: w[2]! } : {}) },
        ),
        inputs: [dwName],
      });
      const rest = withActivation(config['activation'], pointwise, (op, weights, s) => ({
        ...node(op, weights, s),
        inputs: [dwName],
      }));
      return rest ? [dw, ...rest] : opaque();
    }
    case 'Dense': {
      if (inShape.length !== 2) return opaque();
      const weights = { kernel: w[0]!, ...(config['useBias'] ? { bias: w[1]! } : {}) };
      return (
        withActivation(config['activation'], (activation) => node({ type: 'dense', activation }, weights), node) ??
        opaque()
      );
    }
    case 'BatchNormalization': {
      const axis = config['axis'] as number | number[];
      const a = Array.isArray(axis) ? axis : [axis];
      if (a.length !== 1 || (a[0] !== -1 && a[0] !== shape.length - 1)) return opaque();
      let i = 0;
      const gamma = config['scale'] !== false ? w[i++]! : undefined;
      const beta = config['center'] !== false ? w[i++]! : undefined;
      const weights = { ...(gamma ? { gamma } : {}), ...(beta ? { beta } : {}), mean: w[i]!, variance: w[i + 1]! };
      return [node({ type: 'batchNorm', epsilon: (config['epsilon'] as number | undefined) ?? 1e-3 }, weights)];
    }
    case 'Activation': {
      const act = config['activation'] as string;
      if (act === 'softmax') return [node({ type: 'softmax' })];
      const known = activationNamed(act);
      return known ? [node({ type: 'activation', activation: known })] : opaque();
    }
    case 'ReLU': {
      const max = config['maxValue'] as number | null | undefined;
      const slope = (config['negativeSlope'] as number | undefined) ?? 0;
      const threshold = (config['threshold'] as number | undefined) ?? 0;
      if (threshold !== 0) return opaque();
      if (max === null || max === undefined) {
        return [
          node(
            slope === 0
              ? { type: 'activation', activation: 'relu' }
              : { type: 'activation', activation: 'leakyrelu', alpha: slope },
          ),
        ];
      }
      return max === 6 && slope === 0 ? [node({ type: 'activation', activation: 'relu6' })] : opaque();
    }
    case 'LeakyReLU':
      return [
        node({ type: 'activation', activation: 'leakyrelu', alpha: (config['alpha'] as number | undefined) ?? 0.3 }),
      ];
    case 'ELU':
      return ((config['alpha'] as number | undefined) ?? 1) === 1
        ? [node({ type: 'activation', activation: 'elu' })]
        : opaque();
    case 'Softmax':
      return [-1, shape.length - 1, undefined].includes(config['axis'] as number | undefined)
        ? [node({ type: 'softmax' })]
        : opaque();
    case 'GlobalAveragePooling2D':
      return channelsLast ? [node({ type: 'globalAvgPool', keepDims: shape.length === 4 })] : opaque();
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const padding = config['padding'];
      if (!channelsLast || (padding !== 'same' && padding !== 'valid')) return opaque();
      const kernel = pair(config['poolSize'] ?? 2);
      const strides = pair(config['strides'] ?? config['poolSize'] ?? 2);
      const pads = padding === 'valid' ? ([0, 0, 0, 0] as const) : samePads(inShape, shape, kernel, strides);
      return [
        node(
          className === 'MaxPooling2D'
            ? { type: 'maxPool', kernel, strides, pads }
            : { type: 'avgPool', kernel, strides, pads, countPads: [0, 0, 0, 0] },
        ),
      ];
    }
    case 'ZeroPadding2D': {
      if (!channelsLast) return opaque();
      const [[top, bottom], [left, right]] = config['padding'] as [[number, number], [number, number]];
      return [node({ type: 'pad', pads: [top, bottom, left, right] })];
    }
    case 'Concatenate': {
      const axis = (config['axis'] as number | undefined) ?? -1;
      return axis === -1 || axis === shape.length - 1 ? [node({ type: 'concat' })] : opaque();
    }
    case 'Add':
      return [node({ type: 'add' })];
    case 'Reshape':
      return [node({ type: 'reshape' })];
    case 'Flatten':
      return [node({ type: 'flatten', order: 'hwc' })];
    default:
      return IDENTITY_CLASSES.has(className) ? [node({ type: 'identity' })] : opaque();
  }
}

/**
 * A layer with its own activation: one node when the engine can end a step in it, else the layer
 * without it (linear) and a node `<layer>/softmax` or `<layer>/activation` after it; undefined
 * when the engine does not know the activation.
 */
function withActivation(
  raw: unknown,
  make: (activation: Activation) => NodeSpec,
  node: (op: Op, weights?: Record<string, tf.Tensor>, shape?: number[]) => NodeSpec,
): NodeSpec[] | undefined {
  const name = (raw as string | undefined) ?? 'linear';
  const act = activationNamed(name);
  if (act && foldsIntoStep(act)) return [make(act)];
  if (name !== 'softmax' && !act) return undefined;
  const linear = make('linear');
  const after = node(name === 'softmax' ? { type: 'softmax' } : { type: 'activation', activation: act! });
  return [
    linear,
    { ...after, name: `${linear.name}/${name === 'softmax' ? 'softmax' : 'activation'}`, inputs: [linear.name] },
  ];
}

/** TensorFlow's 'same' padding as explicit pads (the extra row / column goes after). */
function samePads(
  input: number[],
  output: number[],
  kernel: readonly [number, number],
  strides: readonly [number, number],
): Padding4 {
  const total = (i: 1 | 2) => Math.max((output[i]! - 1) * strides[i - 1]! + kernel[i - 1]! - input[i]!, 0);
  const rows = total(1);
  const cols = total(2);
  return [Math.floor(rows / 2), rows - Math.floor(rows / 2), Math.floor(cols / 2), cols - Math.floor(cols / 2)];
}

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number];
}
