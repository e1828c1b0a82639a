/** Output shapes of the neutral graph's operations (batch 1, channels last), for importers that do not carry them. */
import { WhyCamError } from '../errors.js';
import type { ConvPadding, GraphNode, Op } from './graph.js';

/** Output length of a convolution or pooling window laid over `size` values. */
export function windowOutput(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: ConvPadding | readonly [number, number],
): number {
  const effective = (kernel - 1) * dilation + 1;
  if (padding === 'same') return Math.ceil(size / stride);
  if (padding === 'valid') return Math.floor((size - effective) / stride) + 1;
  return Math.floor((size + padding[0] + padding[1] - effective) / stride) + 1;
}

function spatial(
  name: string,
  [, h, w]: readonly number[],
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  padding: ConvPadding,
): [number, number] {
  const rows = padding === 'same' || padding === 'valid' ? padding : ([padding[0], padding[1]] as const);
  const cols = padding === 'same' || padding === 'valid' ? padding : ([padding[2], padding[3]] as const);
  const out: [number, number] = [
    windowOutput(h!, kernel[0], strides[0], dilations[0], rows),
    windowOutput(w!, kernel[1], strides[1], dilations[1], cols),
  ];
  if (out[0] < 1 || out[1] < 1) {
    throw new WhyCamError('unsupported-model', `Layer "${name}" would make an empty map from a ${h}×${w} input.`);
  }
  return out;
}

/**
 * The output shape of `op` on inputs of `inputShapes`; `weights` gives the channel counts of
 * convolutions and dense layers. Opaque and reshape nodes must come with their own shape.
 */
export function inferShape(
  name: string,
  op: Op,
  inputShapes: readonly (readonly number[])[],
  weights: GraphNode['weights'],
): number[] {
  const x = inputShapes[0] ?? [];
  const channels = x[x.length - 1]!;
  switch (op.type) {
    case 'conv2d':
    case 'depthwiseConv2d': {
      const [kh, kw, inC, out] = weights['kernel']!.shape as [number, number, number, number];
      if (kh !== op.kernel[0] || kw !== op.kernel[1] || inC !== channels) {
        throw new WhyCamError(
          'unsupported-model',
          `Layer "${name}" has a ${kh}×${kw}×${inC} kernel but reads a ${op.kernel[0]}×${op.kernel[1]} window of ${channels} channels.`,
        );
      }
      const [h, w] = spatial(name, x, op.kernel, op.strides, op.dilations, op.padding);
      return [1, h, w, op.type === 'conv2d' ? out : inC * out];
    }
    case 'maxPool':
    case 'avgPool': {
      const [h, w] = spatial(name, x, op.kernel, op.strides, [1, 1], op.pads);
      return [1, h, w, channels];
    }
    case 'dense':
      return [1, weights['kernel']!.shape[1]!];
    case 'globalAvgPool':
      return op.keepDims ? [1, 1, 1, channels] : [1, channels];
    case 'concat': {
      const [first] = inputShapes;
      for (const s of inputShapes) {
        if (s.length !== first!.length || s.slice(0, -1).some((d, i) => d !== first![i])) {
          throw new WhyCamError(
            'unsupported-model',
            `Layer "${name}" concatenates maps of different sizes: ${inputShapes.map((t) => `[${t.join(', ')}]`).join(', ')}.`,
          );
        }
      }
      return [...first!.slice(0, -1), inputShapes.reduce((n, s) => n + s[s.length - 1]!, 0)];
    }
    case 'add':
      for (const s of inputShapes) {
        if (s.join() !== x.join())
          throw new WhyCamError('unsupported-model', `Layer "${name}" adds tensors of different shapes.`);
      }
      return [...x];
    case 'pad':
      return [1, x[1]! + op.pads[0] + op.pads[1], x[2]! + op.pads[2] + op.pads[3], channels];
    case 'flatten':
      return [1, x.reduce((a, b) => a * b, 1)];
    case 'input':
    case 'reshape':
    case 'opaque':
      throw new Error(`internal: ${op.type} node "${name}" needs its shape from the importer`);
    default:
      return [...x];
  }
}
