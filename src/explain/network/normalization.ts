/**
 * How a network wants its input pixels. The input kernel maps 0..255 linearly onto `range`;
 * per-channel statistics and BGR order become one `normalize` node right after the graph's input.
 */
import { WhyCamError } from '../errors.js';
import { buildGraph, type ModelGraph, type NodeSpec } from './graph.js';

export const NORMALIZATIONS = ['minus-one-to-one', 'zero-to-one', 'imagenet', 'caffe'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

export const NORMALIZATION_TEXT: Readonly<Record<Normalization, string>> = {
  'minus-one-to-one': 'RGB scaled to [−1, 1] (Keras MobileNet, Teachable Machine)',
  'zero-to-one': 'RGB scaled to [0, 1]',
  imagenet:
    'RGB in [0, 1] minus the ImageNet mean (0.485, 0.456, 0.406), divided by its std (0.229, 0.224, 0.225) (PyTorch, Keras DenseNet)',
  caffe: 'BGR 0–255 minus the mean (104, 117, 123) (Caffe)',
};

export function isNormalization(s: string): s is Normalization {
  return (NORMALIZATIONS as readonly string[]).includes(s);
}

export function parseNormalization(s: string): Normalization {
  if (!isNormalization(s)) {
    throw new WhyCamError('bad-option', `Unknown normalisation "${s}".`, `Use one of: ${NORMALIZATIONS.join(', ')}.`);
  }
  return s;
}

/** The range the input kernel maps 0..255 onto. */
export function inputRangeOf(n: Normalization): readonly [number, number] {
  switch (n) {
    case 'minus-one-to-one':
      return [-1, 1];
    case 'zero-to-one':
    case 'imagenet':
      return [0, 1];
    case 'caffe':
      return [0, 255];
  }
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const CAFFE_MEAN_BGR = [104, 117, 123];

/**
 * `specs` with the per-channel part of `n` (if any) as a node `<input>/normalize` between the
 * input and everything that read it.
 */
export function withNormalization(specs: readonly NodeSpec[], n: Normalization): NodeSpec[] {
  const op =
    n === 'imagenet'
      ? {
          type: 'normalize' as const,
          order: [0, 1, 2],
          scale: STD.map((s) => 1 / s),
          shift: MEAN.map((m, i) => -m / STD[i]!),
        }
      : n === 'caffe'
        ? { type: 'normalize' as const, order: [2, 1, 0], scale: [1, 1, 1], shift: CAFFE_MEAN_BGR.map((m) => -m) }
        : null;
  if (!op) return [...specs];
  const input = specs.find((s) => s.op.type === 'input');
  if (!input) throw new Error('internal: a graph without an input node');
  const name = `${input.name}/normalize`;
  const readers = specs.map((s) => ({ ...s, inputs: s.inputs.map((i) => (i === input.name ? name : i)) }));
  const at = specs.indexOf(input) + 1;
  const node: NodeSpec = {
    name,
    op,
    sourceType: 'normalisation',
    inputs: [input.name],
    shape: [...input.shape],
    weights: {},
  };
  return [...readers.slice(0, at), node, ...readers.slice(at)];
}

/** `graph` with the per-channel part of `n` as its first node (the same graph when there is none). */
export function normalizedGraph<G extends ModelGraph>(graph: G, n: Normalization): G {
  const specs = withNormalization(graph.nodes, n);
  if (specs.length === graph.nodes.length) return graph;
  return { ...graph, ...buildGraph(specs, graph.output, graph.dispose) };
}
