/**
 * ONNX models (what `torch.onnx.export` and ONNX Runtime's quantizer write) as the engine's
 * neutral graph. The file is parsed with `onnx-proto`; constant subgraphs are folded
 * (onnx-constants.ts), each remaining operation is lowered to graph nodes (onnx-ops.ts, and
 * onnx-quantized.ts for QLinear*), NCHW becoming NHWC there. Node names are the ONNX node names
 * (without the quantizer's `_quant` suffix), so `--layer` takes the names Netron shows.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../../errors.js';
import type { Activation } from '../../network/activations.js';
import { buildGraph, type ModelGraph, type NodeSpec, type Op } from '../../network/graph.js';
import { inferShape } from '../../network/shapes.js';
import { type FoldInput, foldConstant, FOLDED_OPS } from './onnx-constants.js';
import { type OnnxModel, type OnnxNode, readOnnxModel } from './onnx-file.js';
import type { Lowering, RuntimeValue, Value } from './onnx-lowering.js';
import { FLOAT_OPS } from './onnx-ops.js';
import { QUANTIZED_OPS } from './onnx-quantized.js';

/** Operator-set versions of the standard domain the lowerings follow (attributes moved to inputs at 11 and 13). */
export const ONNX_OPSETS = [7, 22] as const;

const SUPPORTED = [
  ...Object.keys(FLOAT_OPS),
  ...Object.keys(QUANTIZED_OPS),
  ...FOLDED_OPS.filter((o) => !(o in FLOAT_OPS)),
];

const HINT = `Supported ONNX operations: ${[...new Set(SUPPORTED)].sort().join(', ')} (opsets ${ONNX_OPSETS[0]}–${ONNX_OPSETS[1]}; QLinear* from com.microsoft).`;

export interface OnnxImportOptions {
  /** The file as a person would name it, for messages. */
  location: string;
  /** [height, width] where the file leaves the input's size open. */
  inputSize?: readonly [number, number];
}

export interface ImportedOnnx {
  graph: ModelGraph;
  /** The input's height and width, as the file fixes them or as assumed. */
  inputSize: [number, number];
  classes: number;
  /** What the file left open and was fixed (a named batch dimension, an open image size). */
  fixed: string[];
  producer: string;
}

const toNchw = (shape: readonly number[]): number[] =>
  shape.length === 4 ? [shape[0]!, shape[3]!, shape[1]!, shape[2]!] : [...shape];

/** The graph of an ONNX image classifier: one image input [N, C, H, W], one score per class out. */
export function importOnnx(bytes: Uint8Array, options: OnnxImportOptions): ImportedOnnx {
  const { location } = options;
  const model = readOnnxModel(bytes, location);
  checkOpsets(model, location);
  const tensors: tf.Tensor[] = [];
  const dispose = (): void => {
    for (const t of tensors.splice(0)) t.dispose();
  };
  try {
    return walk(model, options, tensors, dispose);
  } catch (e) {
    dispose();
    throw e;
  }
}

function checkOpsets(model: OnnxModel, location: string): void {
  const used = new Set(model.nodes.map((n) => n.domain));
  for (const domain of used) {
    if (domain !== '' && domain !== 'com.microsoft') {
      const node = model.nodes.find((n) => n.domain === domain)!;
      throw new WhyCamError(
        'unsupported-model',
        `${location}: node "${node.name}" is ${node.opType} of the operator domain "${domain}", which WhyCam cannot run.`,
        HINT,
      );
    }
  }
  const version = model.opsets.get('') ?? 0;
  if (version < ONNX_OPSETS[0] || version > ONNX_OPSETS[1]) {
    throw new WhyCamError(
      'unsupported-model',
      `${location} uses ONNX opset ${version}; WhyCam reads opsets ${ONNX_OPSETS[0]}–${ONNX_OPSETS[1]}.`,
      'Export again with another opset_version (torch.onnx.export(..., opset_version=17)).',
    );
  }
}

function walk(model: OnnxModel, options: OnnxImportOptions, tensors: tf.Tensor[], dispose: () => void): ImportedOnnx {
  const { location } = options;
  const fixed: string[] = [];
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new WhyCamError(
      'unsupported-model',
      `${location} has ${model.inputs.length} inputs and ${model.outputs.length} outputs.`,
      'WhyCam explains image classifiers with one image input and one class-score output.',
    );
  }
  const input = model.inputs[0]!;
  const inputSize = imageInput(input.name, input.dims, options, fixed, location);
  const values = new Map<string, Value>();
  for (const [name, tensor] of model.initializers) values.set(name, { kind: 'const', tensor });
  const specs = new Map<string, NodeSpec>();
  const inputNode: NodeSpec = {
    name: uniqueName(input.name, specs),
    op: { type: 'input' },
    sourceType: 'input',
    inputs: [],
    shape: [1, inputSize[0], inputSize[1], 3],
    weights: {},
  };
  specs.set(inputNode.name, inputNode);
  values.set(input.name, { kind: 'runtime', node: inputNode.name, shape: [1, 3, ...inputSize] });

  // How many nodes read each tensor, and which tensor each engine node's value is (for folds).
  const readers = new Map<string, number>();
  for (const n of model.nodes) for (const i of n.inputs) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
  const tensorOf = new Map<string, string>();
  const opset = model.opsets.get('') ?? 0;

  for (const node of model.nodes) {
    const where = `${location}: node "${node.name}" (${node.opType})`;
    const inputs = node.inputs.map((name) => {
      if (!name) return undefined;
      const v = values.get(name);
      if (!v) throw new WhyCamError('unsupported-model', `${where} reads "${name}", which nothing before it makes.`);
      return v;
    });
    const folded = foldConstant(
      node.opType,
      inputs.map((v): FoldInput => (v?.kind === 'const' ? v.tensor : v)),
      node.attributes,
      where,
    );
    if (folded && node.domain === '') {
      values.set(node.outputs[0]!, { kind: 'const', tensor: folded });
      continue;
    }
    const lower = (node.domain === '' ? FLOAT_OPS[node.opType] : undefined) ?? QUANTIZED_OPS[node.opType];
    if (!lower) {
      throw new WhyCamError(
        'unsupported-model',
        `${where}: ${node.domain ? `${node.domain}.` : ''}${node.opType} is an operation WhyCam cannot run.`,
        HINT,
      );
    }
    const context = lowering(node, where, inputs, opset, specs, tensors, readers, tensorOf);
    const result = lower(context);
    values.set(node.outputs[0]!, result);
    if (result.kind === 'runtime' && !tensorOf.has(result.node)) tensorOf.set(result.node, node.outputs[0]!);
  }
  const output = values.get(model.outputs[0]!.name);
  if (output?.kind !== 'runtime') {
    throw new WhyCamError(
      'unsupported-model',
      `${location}: the output "${model.outputs[0]!.name}" is not computed from the image.`,
    );
  }
  if (output.shape.length !== 2 || output.shape[0] !== 1) {
    throw new WhyCamError(
      'unsupported-model',
      `${location} gives [${output.shape.join(', ')}], not one score per class ([1, classes]).`,
      'WhyCam explains image classifiers with one class-score output.',
    );
  }
  const graph = buildGraph([...specs.values()], output.node, dispose);
  return { graph, inputSize, classes: output.shape[1]!, fixed, producer: model.producer };
}

/** [height, width] of the image input; a named batch dimension is fixed to 1, an open size to the given one. */
function imageInput(
  name: string,
  dims: readonly (number | string)[],
  options: OnnxImportOptions,
  fixed: string[],
  location: string,
): [number, number] {
  const [n, c, h, w] = dims;
  if (dims.length !== 4 || c !== 3) {
    throw new WhyCamError(
      'unsupported-model',
      `${location}: the input "${name}" has shape [${dims.join(', ')}], not an RGB image batch [N, 3, H, W].`,
      'WhyCam explains image classifiers over NCHW RGB pictures.',
    );
  }
  if (typeof n === 'string') fixed.push(`the batch dimension "${n}" is 1`);
  else if (n !== 1)
    throw new WhyCamError(
      'unsupported-model',
      `${location}: the input "${name}" is a batch of ${n}; WhyCam explains one picture at a time (batch 1).`,
    );
  const size: [number, number] = [0, 0];
  [h, w].forEach((d, i) => {
    if (typeof d === 'number') size[i] = d;
    else if (options.inputSize) {
      size[i] = options.inputSize[i]!;
      fixed.push(`the ${i === 0 ? 'height' : 'width'} "${d}" is ${size[i]}`);
    } else {
      throw new WhyCamError(
        'unsupported-model',
        `${location}: the input "${name}" leaves its ${i === 0 ? 'height' : 'width'} open ("${d}"), and no size was given.`,
        'Export with a fixed input size (a 224×224 example input and no dynamic_axes for H and W).',
      );
    }
  });
  if (options.inputSize && (options.inputSize[0] !== size[0] || options.inputSize[1] !== size[1])) {
    throw new WhyCamError(
      'unsupported-model',
      `${location} takes ${size[0]}×${size[1]} pictures, not ${options.inputSize[0]}×${options.inputSize[1]}.`,
    );
  }
  return size;
}

function uniqueName(wanted: string, specs: ReadonlyMap<string, NodeSpec>): string {
  const base = wanted.replace(/_quant$/, '') || 'node';
  if (!specs.has(base)) return base;
  for (let i = 2; ; i++) if (!specs.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** The context one node's lowering works in: its inputs, and the graph it adds to. */
function lowering(
  node: OnnxNode,
  where: string,
  inputs: (Value | undefined)[],
  opset: number,
  specs: Map<string, NodeSpec>,
  tensors: tf.Tensor[],
  readers: ReadonlyMap<string, number>,
  tensorOf: ReadonlyMap<string, string>,
): Lowering {
  let emitted = 0;
  const foldable = (value: RuntimeValue): NodeSpec | undefined => {
    const spec = specs.get(value.node);
    const op = spec?.op as Op | undefined;
    const ownOutput = tensorOf.get(value.node);
    const alone = !ownOutput || (readers.get(ownOutput) ?? 0) <= 1;
    const conv = op?.type === 'conv2d' || op?.type === 'depthwiseConv2d' || op?.type === 'dense';
    return spec && conv && alone && (op as { activation: Activation }).activation === 'linear' ? spec : undefined;
  };
  return {
    opType: node.opType,
    where,
    attributes: node.attributes,
    opset,
    input: (i) => inputs[i],
    inputCount: inputs.length,
    keep: (t) => {
      tensors.push(t);
      return t;
    },
    emit: (op, from, weights = {}, shape) => {
      const name = uniqueName(emitted++ === 0 ? node.name : `${node.name}/${op.type}`, specs);
      const inputNames = from.map((v) => v.node);
      const engineShape =
        shape ??
        inferShape(
          name,
          op,
          inputNames.map((n) => specs.get(n)!.shape),
          weights,
        );
      specs.set(name, { name, op, sourceType: node.opType, inputs: inputNames, shape: engineShape, weights });
      return { node: name, shape: toNchw(engineShape) };
    },
    foldBias: (value, bias) => {
      const spec = foldable(value);
      const channels = spec?.shape.at(-1);
      if (!spec || channels !== bias.length) return false;
      const old = spec.weights['bias'];
      const added = tf.tidy(() => (old ? tf.add(old, bias) : tf.tensor1d(bias)));
      tensors.push(added);
      specs.set(spec.name, { ...spec, weights: { ...spec.weights, bias: added } });
      return true;
    },
    foldActivation: (value, activation) => {
      const spec = foldable(value);
      if (!spec || !['relu', 'relu6', 'sigmoid', 'linear'].includes(activation)) return false;
      specs.set(spec.name, { ...spec, op: { ...spec.op, activation } as Op });
      return true;
    },
  };
}
