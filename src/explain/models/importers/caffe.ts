/**
 * Caffe deploy nets, in caffejs's layout (chaosmail/caffejs: `deploy.prototxt` plus
 * `weights/<layer>_filter.bin` and `_bias.bin`, raw little-endian float32), as the engine's
 * neutral graph. Node names are Caffe's layer names, so reports and `--layer` use the names the
 * model's papers and MATLAB use. Caffe computes NCHW; the graph is NHWC, so every layout fact
 * (filters, fully connected weights, the channel axis) is translated here and nowhere else.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../../errors.js';
import { buildGraph, type ModelGraph, type NodeSpec, type Op, type Padding4 } from '../../network/graph.js';
import { inferShape } from '../../network/shapes.js';
import { bool, message, messages, number, numbers, parsePrototxt, type PbMessage, text, texts } from './prototxt.js';

export interface CaffeImportOptions {
  /** The model folder as a person would name it; messages name `<location>/deploy.prototxt` and `<location>/weights/…`. */
  location: string;
  /** [height, width] of the input, instead of the prototxt's own (a fully convolutional net runs at any size). */
  inputSize?: readonly [number, number];
}

/** Reads a file of the model folder by its relative path; null when it does not exist. */
export type CaffeFileReader = (path: string) => Promise<Uint8Array | null>;

const SUPPORTED =
  'Input, Convolution, ReLU, Sigmoid, TanH, ELU, Pooling (MAX, AVE), LRN (ACROSS_CHANNELS), Concat, ' +
  'Eltwise (SUM), Dropout, InnerProduct, Flatten, Softmax';
const HINT = `Supported Caffe layers: ${SUPPORTED}.`;

/** A layer (or one of its settings) the graph has no operation for. */
function unsupported(layer: string, type: string, detail = ''): WhyCamError {
  return new WhyCamError(
    'unsupported-model',
    `Layer "${layer}" is a Caffe ${type}${detail}, which WhyCam cannot run.`,
    HINT,
  );
}

/** What one layer becomes: its node, and any node it needs before it (a flatten before InnerProduct). */
interface Translated {
  op: Op;
  weights?: Record<string, tf.Tensor>;
  /** Overrides the layer's bottoms (the flatten node's name). */
  inputs?: string[];
  before?: NodeSpec;
}

interface Layer {
  name: string;
  type: string;
  /** `<location>/deploy.prototxt, layer "<name>"`, for messages about a setting. */
  where: string;
  msg: PbMessage;
  /** Node names of the bottoms' current values, and their shapes. */
  inputs: string[];
  shapes: number[][];
}

/**
 * The neutral graph of a caffejs model: `prototxt` is its `deploy.prototxt`, `readFile` reads
 * `weights/…` relative to the model folder. The input node is Caffe's data blob ([1, H, W, C]:
 * BGR, 0–255 minus the mean, for the BVLC models); the output is the last layer's top. The
 * graph's dispose() frees every weight tensor made here.
 */
export async function importCaffe(
  prototxt: string,
  readFile: CaffeFileReader,
  options: CaffeImportOptions,
): Promise<ModelGraph> {
  const { location } = options;
  const where = `${location}/deploy.prototxt`;
  const net = parsePrototxt(prototxt, where);
  if (net['layers']) {
    throw new WhyCamError(
      'unsupported-model',
      `${where} is in Caffe's old V1 format ("layers", upper-case types).`,
      "Convert it with Caffe's upgrade_net_proto_text tool first.",
    );
  }
  const tensors: tf.Tensor[] = [];
  const dispose = (): void => {
    for (const t of tensors.splice(0)) t.dispose();
  };
  const weight: WeightReader = async (layer, suffix, shape, arrange) => {
    const path = `weights/${layer}_${suffix}.bin`;
    const count = shape.reduce((a, b) => a * b, 1);
    const bytes = await readFile(path);
    if (!bytes)
      throw new WhyCamError('model-missing', `${location}/${path} is missing (the ${suffix} of layer "${layer}").`);
    if (bytes.byteLength !== count * 4) {
      throw new WhyCamError(
        'model-corrupt',
        `${location}/${path} holds ${bytes.byteLength} bytes; layer "${layer}" needs ${count * 4} ` +
          `(${shape.join('×')} float32 values): the file is truncated or damaged.`,
      );
    }
    // A DataView reads little-endian whatever the machine is, and from any byte offset.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
    const t = tf.tidy(() => (arrange ?? ((stored: tf.Tensor) => stored))(tf.tensor(data, shape)));
    tensors.push(t);
    return t;
  };

  try {
    const specs: NodeSpec[] = [];
    const shapeOf = new Map<string, number[]>();
    /** Caffe's blobs by name → the node whose output is the blob's value now (in-place layers move it). */
    const current = new Map<string, string>();
    const add = (spec: NodeSpec): void => {
      specs.push(spec);
      shapeOf.set(spec.name, spec.shape);
    };
    // The old form: `input: "data"` with `input_dim` ×4 or `input_shape { dim … }` at the top level.
    const oldInputs = texts(net, 'input', where);
    if (oldInputs.length > 1)
      throw new WhyCamError('unsupported-model', `${where} declares ${oldInputs.length} inputs.`);
    if (oldInputs.length === 1) {
      const dims = numbers(net, 'input_dim', where);
      const shape = dims.length > 0 ? dims : numbers(message(net, 'input_shape', where), 'dim', where);
      add(inputSpec(oldInputs[0]!, shape, options.inputSize, where));
      current.set(oldInputs[0]!, oldInputs[0]!);
    }
    const layers = messages(net, 'layer', where).filter((l) => !trainOnly(l, where));
    if (layers.length === 0) throw new WhyCamError('unsupported-model', `${where} has no layers.`);
    let lastTop = '';
    for (const msg of layers) {
      const name = text(msg, 'name', '', where);
      if (!name) throw new WhyCamError('unsupported-model', `${where} has a layer without a name.`);
      const type = text(msg, 'type', '', where);
      const lw = `${where}, layer "${name}"`;
      const tops = texts(msg, 'top', lw);
      if (tops.length !== 1) throw unsupported(name, type, ` with ${tops.length} outputs`);
      const inputs = texts(msg, 'bottom', lw).map((b) => {
        const node = current.get(b);
        if (!node)
          throw new WhyCamError('unsupported-model', `Layer "${name}" reads "${b}", which no layer before it makes.`);
        return node;
      });
      if (type === 'Input') {
        if (inputs.length > 0) throw new WhyCamError('unsupported-model', `Input layer "${name}" has a bottom.`);
        const shape = numbers(message(message(msg, 'input_param', lw), 'shape', lw), 'dim', lw);
        add(inputSpec(name, shape, options.inputSize, lw));
      } else {
        const layer: Layer = { name, type, where: lw, msg, inputs, shapes: inputs.map((i) => shapeOf.get(i)!) };
        const t = await translate(layer, weight);
        if (t.before) add(t.before);
        const nodeInputs = t.inputs ?? inputs;
        const weights = t.weights ?? {};
        const shape = inferShape(
          name,
          t.op,
          nodeInputs.map((i) => shapeOf.get(i)!),
          weights,
        );
        add({ name, op: t.op, sourceType: type, inputs: nodeInputs, shape, weights });
      }
      current.set(tops[0]!, name);
      lastTop = tops[0]!;
    }
    return buildGraph(specs, current.get(lastTop)!, dispose);
  } catch (e) {
    dispose();
    throw e;
  }
}

/** A layer that `include { phase: TRAIN }` keeps out of a deploy (test-phase) net. */
function trainOnly(layer: PbMessage, where: string): boolean {
  const include = messages(layer, 'include', where);
  return include.length > 0 && include.every((r) => text(r, 'phase', '', where) === 'TRAIN');
}

/** The input node: Caffe's [N, C, H, W] as [1, H, W, C]; `size` replaces H and W. */
function inputSpec(name: string, dims: number[], size: readonly [number, number] | undefined, where: string): NodeSpec {
  if (dims.length !== 4 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new WhyCamError(
      'unsupported-model',
      `${where}: the input "${name}" has shape [${dims.join(', ')}], not an image batch [N, C, H, W].`,
    );
  }
  const [, c, h, w] = dims as [number, number, number, number];
  const [height, width] = size ?? [h, w];
  return { name, op: { type: 'input' }, sourceType: 'Input', inputs: [], shape: [1, height, width, c], weights: {} };
}

/**
 * A spatial setting of convolution / pooling as [h, w]: Caffe's `<field>` (`kernel_size`, `pad`,
 * `stride`: one value for both, or, for convolution, two: h then w) unless `<prefix>_h` /
 * `<prefix>_w` are given.
 */
function pair(
  p: PbMessage,
  field: string,
  prefix: string,
  fallback: number | undefined,
  layer: Layer,
): [number, number] {
  const both = numbers(p, field, layer.where);
  const h = numbers(p, `${prefix}_h`, layer.where).at(-1);
  const w = numbers(p, `${prefix}_w`, layer.where).at(-1);
  const [oh = fallback, ow = fallback] =
    h !== undefined || w !== undefined ? [h, w] : both.length === 2 ? [both[0], both[1]] : [both[0], both[0]];
  if (oh === undefined || ow === undefined)
    throw new WhyCamError('unsupported-model', `${layer.where} has no ${field}.`);
  if (both.length > 2 || ![oh, ow].every((v) => Number.isInteger(v) && v >= 0)) {
    throw new WhyCamError(
      'unsupported-model',
      `${layer.where}: ${field} [${both.join(', ')}] is not one or two sizes.`,
    );
  }
  return [oh, ow];
}

/** Caffe's pooled size (pooling_layer.cpp): rounded up, less the window that would start in the trailing padding. */
function caffePoolSize(size: number, k: number, s: number, p: number, padded: boolean, ceil: boolean): number {
  const windows = (size + 2 * p - k) / s;
  let out = (ceil ? Math.ceil(windows) : Math.floor(windows)) + 1;
  if (padded && (out - 1) * s >= size + p) out--;
  return out;
}

/** A layer's weight file as a tensor of its stored `shape`, or as `arrange` makes it of that; dispose() frees it. */
type WeightReader = (
  layer: string,
  suffix: 'filter' | 'bias',
  shape: number[],
  arrange?: (stored: tf.Tensor) => tf.Tensor,
) => Promise<tf.Tensor>;

async function translate(layer: Layer, weight: WeightReader): Promise<Translated> {
  const { name, type, where, msg } = layer;
  const x = layer.shapes[0];
  const one = (): number[] => {
    if (layer.inputs.length !== 1) {
      throw new WhyCamError(
        'unsupported-model',
        `Layer "${name}" (${type}) reads ${layer.inputs.length} blobs, not 1.`,
      );
    }
    return x!;
  };
  const image = (): [number, number, number, number] => {
    const s = one();
    if (s.length !== 4)
      throw new WhyCamError(
        'unsupported-model',
        `Layer "${name}" (${type}) needs an image map, not [${s.join(', ')}].`,
      );
    return s as [number, number, number, number];
  };
  switch (type) {
    case 'Convolution':
      return convolution(layer, image()[3], weight);
    case 'ReLU': {
      one();
      const slope = number(message(msg, 'relu_param', where), 'negative_slope', 0, where);
      if (slope === 0) return { op: { type: 'activation', activation: 'relu' } };
      return { op: { type: 'activation', activation: 'leakyrelu', alpha: slope } };
    }
    case 'Sigmoid':
    case 'TanH':
      one();
      return { op: { type: 'activation', activation: type === 'Sigmoid' ? 'sigmoid' : 'tanh' } };
    case 'ELU': {
      one();
      const alpha = number(message(msg, 'elu_param', where), 'alpha', 1, where);
      if (alpha !== 1) throw unsupported(name, type, ` with alpha ${alpha}`);
      return { op: { type: 'activation', activation: 'elu' } };
    }
    case 'Pooling':
      return { op: pooling(layer, image()) };
    case 'LRN': {
      image();
      const p = message(msg, 'lrn_param', where);
      const n = number(p, 'local_size', 5, where);
      const region = text(p, 'norm_region', 'ACROSS_CHANNELS', where);
      if (region !== 'ACROSS_CHANNELS') throw unsupported(name, type, ` over ${region}`);
      if (!Number.isInteger(n) || n < 1 || n % 2 === 0) {
        throw new WhyCamError('unsupported-model', `${where}: local_size ${n} is not an odd window.`);
      }
      // Caffe: b = a / (k + alpha/n · Σ a²)^beta over n channels; tf's alpha multiplies the sum itself.
      const alpha = number(p, 'alpha', 1, where) / n;
      return {
        op: {
          type: 'lrn',
          depthRadius: (n - 1) / 2,
          bias: number(p, 'k', 1, where),
          alpha,
          beta: number(p, 'beta', 0.75, where),
        },
      };
    }
    case 'Concat': {
      const p = message(msg, 'concat_param', where);
      const axis = number(p, 'axis', number(p, 'concat_dim', 1, where), where);
      // Caffe's axis 1 is the channels, the last axis here for maps [1, H, W, C] and vectors [1, N] alike.
      if (axis !== 1) throw unsupported(name, type, ` along axis ${axis}`);
      if (layer.inputs.length === 0)
        throw new WhyCamError('unsupported-model', `Layer "${name}" concatenates nothing.`);
      return { op: { type: 'concat' } };
    }
    case 'Eltwise': {
      const p = message(msg, 'eltwise_param', where);
      const operation = text(p, 'operation', 'SUM', where);
      if (operation !== 'SUM') throw unsupported(name, type, ` ${operation}`);
      if (numbers(p, 'coeff', where).some((c) => c !== 1)) throw unsupported(name, type, ' with coefficients');
      return { op: { type: 'add' } };
    }
    case 'Dropout':
      one();
      return { op: { type: 'identity' } };
    case 'Flatten': {
      const s = one();
      const p = message(msg, 'flatten_param', where);
      if (number(p, 'axis', 1, where) !== 1 || number(p, 'end_axis', -1, where) !== -1)
        throw unsupported(name, type, ' of some axes');
      // Caffe flattens an NCHW blob: channel-major.
      return { op: s.length === 4 ? { type: 'flatten', order: 'chw' } : { type: 'identity' } };
    }
    case 'InnerProduct':
      return innerProduct(layer, one(), weight);
    case 'Softmax': {
      one();
      const axis = number(message(msg, 'softmax_param', where), 'axis', 1, where);
      if (axis !== 1) throw unsupported(name, type, ` along axis ${axis}`);
      return { op: { type: 'softmax' } };
    }
    default:
      throw unsupported(name, type || '(untyped) layer');
  }
}

async function convolution(layer: Layer, inC: number, weight: WeightReader): Promise<Translated> {
  const { name, type, where } = layer;
  const p = message(layer.msg, 'convolution_param', where);
  const out = number(p, 'num_output', 0, where);
  if (!Number.isInteger(out) || out < 1) throw new WhyCamError('unsupported-model', `${where} has no num_output.`);
  const kernel = pair(p, 'kernel_size', 'kernel', undefined, layer);
  const strides = pair(p, 'stride', 'stride', 1, layer);
  const [ph, pw] = pair(p, 'pad', 'pad', 0, layer);
  const d = numbers(p, 'dilation', where);
  const dilations: [number, number] = d.length === 0 ? [1, 1] : [d[0]!, d.at(-1)!];
  const group = number(p, 'group', 1, where);
  if (number(p, 'axis', 1, where) !== 1) throw unsupported(name, type, ' along another axis');
  if (!Number.isInteger(group) || group < 1 || inC % group !== 0 || out % group !== 0) {
    throw new WhyCamError(
      'unsupported-model',
      `${where}: group ${group} does not divide ${inC} inputs and ${out} outputs.`,
    );
  }
  const depthwise = group > 1 && group === inC;
  if (group > 1 && !depthwise) throw unsupported(name, type, ` in ${group} groups`);
  const [kh, kw] = kernel;
  // caffejs stores a filter as (out, kh, kw, in / group) (its converter swaps Caffe's (out, in, kh, kw)).
  const kernelTensor = await weight(name, 'filter', [out, kh, kw, inC / group], (t) =>
    depthwise
      ? // Output channel c · multiplier + m reads input channel c: tf's depthwise order too.
        tf.transpose(tf.reshape(t, [inC, out / inC, kh, kw]), [2, 3, 0, 1])
      : tf.transpose(t, [1, 2, 3, 0]),
  );
  const weights: Record<string, tf.Tensor> = { kernel: kernelTensor };
  if (bool(p, 'bias_term', true, where)) weights['bias'] = await weight(name, 'bias', [out]);
  const padding: Padding4 = [ph, ph, pw, pw];
  return {
    op: { type: depthwise ? 'depthwiseConv2d' : 'conv2d', kernel, strides, dilations, padding, activation: 'linear' },
    weights,
  };
}

function pooling(layer: Layer, [, h, w, c]: [number, number, number, number]): Op {
  const { name, type, where } = layer;
  const p = message(layer.msg, 'pooling_param', where);
  const method = text(p, 'pool', 'MAX', where);
  if (method !== 'MAX' && method !== 'AVE') throw unsupported(name, type, ` ${method}`);
  const global = bool(p, 'global_pooling', false, where);
  const kernel: [number, number] = global ? [h, w] : pair(p, 'kernel_size', 'kernel', undefined, layer);
  const strides: [number, number] = global ? [1, 1] : pair(p, 'stride', 'stride', 1, layer);
  const [ph, pw] = global ? [0, 0] : pair(p, 'pad', 'pad', 0, layer);
  const rounding = text(p, 'round_mode', 'CEIL', where);
  if (rounding !== 'CEIL' && rounding !== 'FLOOR') throw unsupported(name, type, ` rounding ${rounding}`);
  if (ph >= kernel[0] || pw >= kernel[1])
    throw new WhyCamError('unsupported-model', `${where}: the padding is not smaller than the window.`);
  const padded = ph > 0 || pw > 0; // Caffe drops a trailing window on both axes when either is padded.
  const oh = caffePoolSize(h, kernel[0], strides[0], ph, padded, rounding === 'CEIL');
  const ow = caffePoolSize(w, kernel[1], strides[1], pw, padded, rounding === 'CEIL');
  if (oh < 1 || ow < 1)
    throw new WhyCamError('unsupported-model', `Layer "${name}" would make an empty map from a ${h}×${w} input.`);
  if (method === 'AVE' && !padded && oh === 1 && ow === 1 && kernel[0] >= h && kernel[1] >= w) {
    return { type: 'globalAvgPool', keepDims: true };
  }
  // Rows / columns after the padding that the rounded-up windows reach (they hold nothing).
  const extra = (size: number, k: number, s: number, pad: number, n: number): number =>
    Math.max(0, (n - 1) * s + k - size - 2 * pad);
  const pads: Padding4 = [
    ph,
    ph + extra(h, kernel[0], strides[0], ph, oh),
    pw,
    pw + extra(w, kernel[1], strides[1], pw, ow),
  ];
  const op: Op =
    method === 'MAX'
      ? { type: 'maxPool', kernel, strides, pads }
      : // Caffe divides by the window clipped to the padded map, so the padding counts, the rounding not.
        { type: 'avgPool', kernel, strides, pads, countPads: [ph, ph, pw, pw] };
  const shape = inferShape(name, op, [[1, h, w, c]], {});
  if (shape[1] !== oh || shape[2] !== ow)
    throw new Error(`internal: pooling "${name}" gives ${shape.join('×')}, Caffe ${oh}×${ow}`);
  return op;
}

async function innerProduct(layer: Layer, x: number[], weight: WeightReader): Promise<Translated> {
  const { name, type, where } = layer;
  const p = message(layer.msg, 'inner_product_param', where);
  const out = number(p, 'num_output', 0, where);
  if (!Number.isInteger(out) || out < 1) throw new WhyCamError('unsupported-model', `${where} has no num_output.`);
  if (number(p, 'axis', 1, where) !== 1) throw unsupported(name, type, ' along another axis');
  const inputs = x.slice(1).reduce((a, b) => a * b, 1);
  // Caffe flattens its NCHW blob channel-major, and caffejs's converter writes the (out, in) matrix
  // as Caffe holds it (it permutes only 4-D filters), so an [H, W, C] map is flattened as C, H, W.
  const flatten: NodeSpec | undefined =
    x.length === 4
      ? {
          name: `${name}/flatten`,
          op: { type: 'flatten', order: 'chw' },
          sourceType: type,
          inputs: [...layer.inputs],
          shape: [1, inputs],
          weights: {},
        }
      : undefined;
  const transposed = bool(p, 'transpose', false, where);
  const kernel = await weight(name, 'filter', transposed ? [inputs, out] : [out, inputs], (t) =>
    transposed ? t : tf.transpose(t),
  );
  const weights: Record<string, tf.Tensor> = { kernel };
  if (bool(p, 'bias_term', true, where)) weights['bias'] = await weight(name, 'bias', [out]);
  return {
    op: { type: 'dense', activation: 'linear' },
    weights,
    ...(flatten ? { before: flatten, inputs: [flatten.name] } : {}),
  };
}
