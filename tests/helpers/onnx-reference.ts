/**
 * A plain-tfjs interpreter of float ONNX graphs, in ONNX's own NCHW layout (each convolution
 * and pooling transposes to NHWC and back), written from the operator definitions: no importer,
 * no lowering, no fusion. Differentiable with tf.grad, it is the reference the engine's maps are
 * checked against. Only the operations the tests' graphs use.
 */
import * as tf from '@tensorflow/tfjs-core';
import { decodeModel, type DecodedTensor } from './onnx-build.js';

type Long = { toNumber(): number };
const n = (v: unknown): number => (typeof v === 'number' ? v : (v as Long).toNumber());

type Attrs = Map<string, number | number[] | string>;

interface RefNode {
  op: string;
  inputs: string[];
  output: string;
  attrs: Attrs;
}

export interface OnnxReference {
  inputName: string;
  /**
   * Every tensor's value for the NCHW input `x`; with `from`, tensor `from.name` is replaced by
   * `from.value` (what is differentiated) and everything after it recomputed from there.
   */
  run(x: tf.Tensor4D, from?: { name: string; value: tf.Tensor }): Map<string, tf.Tensor>;
  outputName: string;
  dispose(): void;
}

function constant(t: DecodedTensor): tf.Tensor {
  const dims = t.dims.map(n);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData;
  let data: number[];
  if (raw && raw.byteLength > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    data = Array.from({ length: count }, (_, i) =>
      t.dataType === 7 ? Number(view.getBigInt64(8 * i, true)) : view.getFloat32(4 * i, true),
    );
  } else {
    data = t.dataType === 1 ? [...t.floatData] : t.dataType === 7 ? t.int64Data.map(n) : t.int32Data.map(n);
  }
  return tf.tensor(data, dims, 'float32');
}

const toNhwc = (x: tf.Tensor): tf.Tensor4D => tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
const toNchw = (x: tf.Tensor): tf.Tensor4D => tf.transpose(x, [0, 3, 1, 2]) as tf.Tensor4D;
const ints = (a: Attrs, k: string, d: number[]): number[] => (a.get(k) as number[] | undefined) ?? d;
const num = (a: Attrs, k: string, d: number): number => (a.get(k) as number | undefined) ?? d;

function conv(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined, a: Attrs): tf.Tensor {
  const group = num(a, 'group', 1);
  const [pt, pl, pb, pr] = ints(a, 'pads', [0, 0, 0, 0]);
  const strides = ints(a, 'strides', [1, 1]) as [number, number];
  const dilations = ints(a, 'dilations', [1, 1]) as [number, number];
  const xp = tf.pad(toNhwc(x), [
    [0, 0],
    [pt!, pb!],
    [pl!, pr!],
    [0, 0],
  ]);
  const filters = tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D; // [kh, kw, in/group, out]
  let y: tf.Tensor4D;
  if (group === 1) {
    y = tf.conv2d(xp, filters, strides, 'valid', 'NHWC', dilations);
  } else {
    const xs = tf.split(xp, group, 3);
    const fs = tf.split(filters, group, 3);
    y = tf.concat(
      xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, fs[i] as tf.Tensor4D, strides, 'valid', 'NHWC', dilations)),
      3,
    );
  }
  const out = toNchw(y);
  return b ? tf.add(out, tf.reshape(b, [1, -1, 1, 1])) : out;
}

function pool(x: tf.Tensor, a: Attrs, kind: 'max' | 'avg'): tf.Tensor {
  const [kh, kw] = ints(a, 'kernel_shape', [1, 1]) as [number, number];
  const [sh, sw] = ints(a, 'strides', [1, 1]) as [number, number];
  const [pt, pl, pb, pr] = ints(a, 'pads', [0, 0, 0, 0]) as number[];
  const ceil = num(a, 'ceil_mode', 0) === 1;
  const [, , h, w] = x.shape as number[];
  const size = (len: number, p0: number, p1: number, k: number, s: number): number => {
    const out = (ceil ? Math.ceil : Math.floor)((len + p0 + p1 - k) / s) + 1;
    return ceil && (out - 1) * s >= len + p0 ? out - 1 : out;
  };
  const oh = size(h!, pt!, pb!, kh, sh);
  const ow = size(w!, pl!, pr!, kw, sw);
  const extraB = Math.max(0, (oh - 1) * sh + kh - (h! + pt! + pb!));
  const extraR = Math.max(0, (ow - 1) * sw + kw - (w! + pl! + pr!));
  const pads: [number, number][] = [
    [0, 0],
    [pt!, pb! + extraB],
    [pl!, pr! + extraR],
    [0, 0],
  ];
  if (kind === 'max') return toNchw(tf.maxPool(tf.pad(toNhwc(x), pads, -1e30), [kh, kw], [sh, sw], 'valid'));
  const sums = tf.mul(tf.avgPool(tf.pad(toNhwc(x), pads, 0), [kh, kw], [sh, sw], 'valid'), kh * kw);
  // The divisor: positions inside the input (count_include_pad 0) or inside the explicit padding too.
  const includePad = num(a, 'count_include_pad', 0) === 1;
  const ones = tf.pad(
    tf.ones([1, includePad ? h! + pt! + pb! : h!, includePad ? w! + pl! + pr! : w!, 1]),
    includePad
      ? [
          [0, 0],
          [0, extraB],
          [0, extraR],
          [0, 0],
        ]
      : pads,
    0,
  );
  const counts = tf.mul(tf.avgPool(ones as tf.Tensor4D, [kh, kw], [sh, sw], 'valid'), kh * kw);
  return toNchw(tf.div(sums, counts));
}

function evalNode(node: RefNode, xs: (tf.Tensor | undefined)[]): tf.Tensor {
  const [x, y, z] = xs;
  const a = node.attrs;
  switch (node.op) {
    case 'Conv':
      return conv(x!, y!, z, a);
    case 'Relu':
      return tf.relu(x!);
    case 'Clip':
      return tf.clipByValue(x!, y ? y.dataSync()[0]! : -Infinity, z ? z.dataSync()[0]! : Infinity);
    case 'LeakyRelu':
      return tf.leakyRelu(x!, num(a, 'alpha', 0.01));
    case 'Sigmoid':
      return tf.sigmoid(x!);
    case 'HardSigmoid':
      return tf.clipByValue(tf.add(tf.mul(x!, num(a, 'alpha', 0.2)), num(a, 'beta', 0.5)), 0, 1);
    case 'HardSwish':
      return tf.mul(x!, tf.clipByValue(tf.add(tf.div(x!, 6), 0.5), 0, 1));
    case 'Add':
      return tf.add(x!, y!);
    case 'Mul':
      return tf.mul(x!, y!);
    case 'BatchNormalization': {
      const shape = [1, -1, 1, 1];
      const [scale, bias, mean, variance] = xs.slice(1).map((t) => tf.reshape(t!, shape));
      return tf.add(
        tf.mul(tf.div(tf.sub(x!, mean!), tf.sqrt(tf.add(variance!, num(a, 'epsilon', 1e-5)))), scale!),
        bias!,
      );
    }
    case 'Concat':
      return tf.concat(xs as tf.Tensor[], num(a, 'axis', 1));
    case 'DequantizeLinear': {
      // Per output channel (axis 0 of a filter) or per tensor.
      const perAxis = (t: tf.Tensor): tf.Tensor => (t.size > 1 ? tf.reshape(t, [-1, 1, 1, 1]) : tf.reshape(t, []));
      return tf.mul(tf.sub(x!, z ? perAxis(z) : 0), perAxis(y!));
    }
    case 'MaxPool':
      return pool(x!, a, 'max');
    case 'AveragePool':
      return pool(x!, a, 'avg');
    case 'GlobalAveragePool':
      return tf.mean(x!, [2, 3], true);
    case 'Flatten':
      return tf.reshape(x!, [1, -1]);
    case 'Reshape':
      return tf.reshape(
        x!,
        Array.from(y!.dataSync(), (d, i) => (d === 0 ? x!.shape[i]! : d)),
      );
    case 'Gemm': {
      const b = num(a, 'transB', 0) ? tf.transpose(y!) : y!;
      const prod = tf.mul(tf.matMul(x! as tf.Tensor2D, b as tf.Tensor2D), num(a, 'alpha', 1));
      return z ? tf.add(prod, tf.mul(z, num(a, 'beta', 1))) : prod;
    }
    case 'MatMul':
      return tf.matMul(x! as tf.Tensor2D, y! as tf.Tensor2D);
    case 'Softmax':
      return tf.softmax(x!);
    case 'Pad': {
      const p = Array.from(y!.dataSync());
      return tf.pad(
        x!,
        [0, 1, 2, 3].map((i) => [p[i]!, p[i + 4]!] as [number, number]),
      );
    }
    case 'Dropout':
    case 'Identity':
      return x!;
    case 'Shape':
      return tf.tensor1d(x!.shape);
    case 'Gather':
      return tf.gather(x!, tf.cast(y!, 'int32'));
    case 'Unsqueeze':
      return tf.reshape(x!, [...(x!.shape.length === 0 ? [1] : [1, ...x!.shape])]);
    case 'Sub':
      return tf.sub(x!, y!);
    case 'Div':
      return tf.div(x!, y!);
    default:
      throw new Error(`onnx reference: no ${node.op}`);
  }
}

/** The reference interpreter of a float ONNX model's bytes. */
export function onnxReference(bytes: Uint8Array): OnnxReference {
  const g = decodeModel(bytes).graph;
  const consts = new Map(g.initializer.map((t) => [t.name, constant(t)]));
  const nodes: RefNode[] = g.node.map((nd) => ({
    op: nd.opType,
    inputs: [...nd.input],
    output: nd.output[0]!,
    attrs: new Map(
      nd.attribute.map((x) => [
        x.name,
        x.ints.length ? x.ints.map(n) : x.s.length ? new TextDecoder().decode(x.s) : x.type === 1 ? x.f : n(x.i),
      ]),
    ),
  }));
  const inputName = g.input.find((i) => !consts.has(i.name))!.name;
  return {
    inputName,
    outputName: g.output[0]!.name,
    run(x, from) {
      const values = new Map<string, tf.Tensor>([[inputName, x]]);
      for (const node of nodes) {
        const xs = node.inputs.map((i) => (i ? (values.get(i) ?? consts.get(i)) : undefined));
        const out = from?.name === node.output ? from.value : evalNode(node, xs);
        values.set(node.output, out);
      }
      return values;
    },
    dispose() {
      for (const t of consts.values()) t.dispose();
    },
  };
}
