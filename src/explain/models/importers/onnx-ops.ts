/**
 * The standard ONNX operations CNN exports use, each lowered to nodes of the engine's graph.
 * ONNX is NCHW and the graph NHWC: every layout fact (filter order, padding order, the channel
 * axis, flattening order) is translated here, once, at import.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../network/activations.js';
import type { Padding4 } from '../../network/graph.js';
import { intAttr, intList } from './onnx-constants.js';
import type { ConstTensor } from './onnx-file.js';
import {
  asConvPadding,
  constant,
  floatAttr,
  floats,
  type Lowerer,
  type Lowering,
  optionalConstant,
  out,
  pair,
  padding,
  runtime,
  type RuntimeValue,
  spatialOf,
  stringAttr,
  unsupportedSetting,
  type Value,
} from './onnx-lowering.js';

const conv: Lowerer = (c) => {
  const x = runtime(c, 0, 'input');
  const w = constant(c, 1, 'filter');
  const b = optionalConstant(c, 2, 'bias');
  const [inC, h, wd] = spatialOf(c, x);
  if (w.dims.length !== 4)
    throw unsupportedSetting(c, `a ${w.dims.length - 2}-D filter (WhyCam runs 2-D convolutions)`);
  const [outC, perGroup, kh, kw] = w.dims as [number, number, number, number];
  const group = intAttr(c.attributes, 'group', 1);
  const kernel: [number, number] = [kh, kw];
  const strides = pair(c, 'strides', 1);
  const dilations = pair(c, 'dilations', 1);
  if (perGroup * group !== inC || outC % group !== 0) {
    throw unsupportedSetting(c, `a ${outC}×${perGroup}×${kh}×${kw} filter in ${group} groups over ${inC} channels`);
  }
  const pad = asConvPadding(padding(c, [h, wd], kernel, strides, dilations));
  const data = floats(w);
  const bias: Record<string, tf.Tensor> = b ? { bias: c.keep(tf.tensor1d(floats(b))) } : {};
  const attrs = { kernel, strides, dilations, padding: pad, activation: 'linear' as const };
  if (group > 1 && group === inC) {
    // Depthwise: ONNX output channel c·m + j is the graph's (c, j) of [kh, kw, C, multiplier].
    const mult = outC / inC;
    const k = new Float32Array(kh * kw * inC * mult);
    for (let o = 0; o < outC; o++)
      for (let y = 0; y < kh; y++)
        for (let xx = 0; xx < kw; xx++)
          k[((y * kw + xx) * inC + Math.floor(o / mult)) * mult + (o % mult)] = data[(o * kh + y) * kw + xx]!;
    const kernelT = c.keep(tf.tensor4d(k, [kh, kw, inC, mult]));
    return out(c.emit({ type: 'depthwiseConv2d', ...attrs }, [x], { kernel: kernelT, ...bias }));
  }
  // [out, in/group, kh, kw] → [kh, kw, in, out]; other groups' inputs stay zero (block-diagonal),
  // which is exact and keeps grouped convolutions one kernel.
  const k = new Float32Array(kh * kw * inC * outC);
  const outPerGroup = outC / group;
  for (let o = 0; o < outC; o++) {
    const first = Math.floor(o / outPerGroup) * perGroup;
    for (let i = 0; i < perGroup; i++)
      for (let y = 0; y < kh; y++)
        for (let xx = 0; xx < kw; xx++)
          k[((y * kw + xx) * inC + first + i) * outC + o] = data[((o * perGroup + i) * kh + y) * kw + xx]!;
  }
  const kernelT = c.keep(tf.tensor4d(k, [kh, kw, inC, outC]));
  return out(c.emit({ type: 'conv2d', ...attrs }, [x], { kernel: kernelT, ...bias }));
};

/** A dense node of `a` · kernel [K, N] (+ bias). */
function dense(c: Lowering, a: RuntimeValue, kernel: Float32Array, k: number, n: number, bias?: Float32Array): Value {
  if (a.shape.length !== 2 || a.shape[1] !== k) {
    throw unsupportedSetting(c, `an input of shape [${a.shape.join(', ')}] for a ${k}×${n} matrix`);
  }
  const weights: Record<string, tf.Tensor> = { kernel: c.keep(tf.tensor2d(kernel, [k, n])) };
  if (bias) weights['bias'] = c.keep(tf.tensor1d(bias));
  return out(c.emit({ type: 'dense', activation: 'linear' }, [a], weights));
}

const gemm: Lowerer = (c) => {
  const a = runtime(c, 0, 'input');
  const b = constant(c, 1, 'weight matrix');
  const bias = optionalConstant(c, 2, 'bias');
  if (intAttr(c.attributes, 'transA', 0)) throw unsupportedSetting(c, 'transA = 1');
  const transB = intAttr(c.attributes, 'transB', 0) === 1;
  const alpha = floatAttr(c, 'alpha', 1);
  const beta = floatAttr(c, 'beta', 1);
  const [rows, cols] = b.dims as [number, number];
  const [k, n] = transB ? [cols, rows] : [rows, cols];
  const data = floats(b);
  const kernel = new Float32Array(k * n);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < n; j++) kernel[i * n + j] = alpha * data[transB ? j * cols + i : i * cols + j]!;
  let biasData: Float32Array | undefined;
  if (bias) {
    const v = floats(bias);
    if (v.length !== 1 && v.length !== n) throw unsupportedSetting(c, `a bias of ${v.length} values for ${n} outputs`);
    biasData = Float32Array.from({ length: n }, (_, j) => beta * v[v.length === 1 ? 0 : j]!);
  }
  return dense(c, a, kernel, k, n, biasData);
};

const matMul: Lowerer = (c) => {
  const a = runtime(c, 0, 'input');
  const b = constant(c, 1, 'weight matrix');
  if (b.dims.length !== 2) throw unsupportedSetting(c, `a weight tensor of shape [${b.dims.join(', ')}]`);
  return dense(c, a, floats(b), b.dims[0]!, b.dims[1]!);
};

/**
 * x ⊕ constant, one value per channel or one for all: folded into the conv / dense node before it
 * where nothing else reads that node, else an affine node (a BatchNorm with unit statistics).
 */
function withConstant(c: Lowering, x: RuntimeValue, k: ConstTensor, op: 'Add' | 'Sub' | 'Mul' | 'Div'): Value {
  const channels = x.shape[1]!;
  const v = floats(k);
  const perChannel = v.length === channels && k.dims.filter((d) => d !== 1).length <= 1;
  const channelAxis = x.shape.length === 4 ? k.dims.length - 3 : k.dims.length - 1;
  if (v.length !== 1 && !(perChannel && k.dims[channelAxis] === channels)) {
    throw unsupportedSetting(c, `a constant of shape [${k.dims.join(', ')}] broadcast over [${x.shape.join(', ')}]`);
  }
  const each = (f: (s: number) => number): Float32Array =>
    Float32Array.from({ length: channels }, (_, i) => f(v[v.length === 1 ? 0 : i]!));
  const scale = op === 'Mul' ? each((s) => s) : op === 'Div' ? each((s) => 1 / s) : each(() => 1);
  const shift = op === 'Add' ? each((s) => s) : op === 'Sub' ? each((s) => -s) : each(() => 0);
  const isShift = op === 'Add' || op === 'Sub';
  if (isShift && c.foldBias(x, shift)) return out(x);
  const t = (d: Float32Array): tf.Tensor => c.keep(tf.tensor1d(d));
  return out(
    c.emit({ type: 'batchNorm', epsilon: 0 }, [x], {
      gamma: t(scale),
      beta: t(shift),
      mean: t(new Float32Array(channels)),
      variance: t(new Float32Array(channels).fill(1)),
    }),
  );
}

/** Add, Sub, Mul, Div: of two run-time tensors (Add, and Mul for squeeze-and-excitation), or with a constant. */
function binary(op: 'Add' | 'Sub' | 'Mul' | 'Div'): Lowerer {
  return (c) => {
    const [a, b] = [c.input(0)!, c.input(1)!];
    if (a.kind === 'runtime' && b.kind === 'const') return withConstant(c, a, b.tensor, op);
    if (a.kind === 'const' && b.kind === 'runtime' && (op === 'Add' || op === 'Mul'))
      return withConstant(c, b, a.tensor, op);
    if (a.kind !== 'runtime' || b.kind !== 'runtime' || op === 'Sub' || op === 'Div') {
      throw unsupportedSetting(c, `${op} of ${a.kind} and ${b.kind} tensors`);
    }
    const size = (v: RuntimeValue): number => v.shape.reduce((p, q) => p * q, 1);
    const [big, small] = size(a) >= size(b) ? [a, b] : [b, a];
    const same = big.shape.join() === small.shape.join();
    const perChannel = big.shape.length === 4 && small.shape.join() === [1, big.shape[1], 1, 1].join();
    if (op === 'Add' && same) return out(c.emit({ type: 'add' }, [a, b]));
    if (op === 'Mul' && (same || perChannel)) return out(c.emit({ type: 'mul' }, [big, small]));
    throw unsupportedSetting(c, `${op} of [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  };
}

function activation(act: Activation, params?: (c: Lowering) => { alpha?: number; beta?: number }): Lowerer {
  return (c) => {
    const x = runtime(c, 0, 'input');
    const p = params?.(c) ?? {};
    if (p.alpha === undefined && c.foldActivation(x, act)) return out(x);
    return out(c.emit({ type: 'activation', activation: act, ...p }, [x]));
  };
}

const clip: Lowerer = (c) => {
  const bound = (i: number, attr: string, fallback: number): number => {
    if (c.opset >= 11) {
      const v = optionalConstant(c, i, attr);
      return v ? v.data[0]! : fallback;
    }
    return floatAttr(c, attr, fallback);
  };
  const lo = bound(1, 'min', -Infinity);
  const hi = bound(2, 'max', Infinity);
  // ReLU6 and ReLU as the activations convolutions fuse; any other range (Hardtanh's [−1, 1]) a clip node.
  if (lo === 0 && hi === 6) return activation('relu6')(c);
  if (lo === 0 && hi >= 3.4e38) return activation('relu')(c);
  return out(c.emit({ type: 'clip', min: lo, max: hi }, [runtime(c, 0, 'input')]));
};

/** Max / average pooling: ONNX's ceil_mode adds the rows and columns Caffe adds, at the end. */
function pool(kind: 'maxPool' | 'avgPool'): Lowerer {
  return (c) => {
    const x = runtime(c, 0, 'input');
    const [, h, w] = spatialOf(c, x);
    const kernel = pair(c, 'kernel_shape', 1);
    const strides = pair(c, 'strides', 1);
    if (pair(c, 'dilations', 1).some((d) => d !== 1)) throw unsupportedSetting(c, 'dilated pooling');
    const p = padding(c, [h, w], kernel, strides, [1, 1]);
    const explicit: Padding4 = p === 'same' ? [0, 0, 0, 0] : p;
    const pads: [number, number, number, number] = [...explicit];
    if (intAttr(c.attributes, 'ceil_mode', 0)) {
      const extra = (size: number, before: number, after: number, k: number, s: number): number => {
        const n = Math.ceil((size + before + after - k) / s) + 1;
        // A last window starting beyond the input and its leading padding is dropped, as ONNX Runtime and PyTorch do.
        const count = (n - 1) * s >= size + before ? n - 1 : n;
        return Math.max(0, (count - 1) * s + k - (size + before + after));
      };
      pads[1] += extra(h, pads[0], pads[1], kernel[0], strides[0]);
      pads[3] += extra(w, pads[2], pads[3], kernel[1], strides[1]);
    }
    if (kind === 'maxPool') return out(c.emit({ type: 'maxPool', kernel, strides, pads }, [x]));
    const countPads: Padding4 = intAttr(c.attributes, 'count_include_pad', 0) ? explicit : [0, 0, 0, 0];
    return out(c.emit({ type: 'avgPool', kernel, strides, pads, countPads }, [x]));
  };
}

const globalMaxPool: Lowerer = (c) => {
  const x = runtime(c, 0, 'input');
  const [, h, w] = spatialOf(c, x);
  return out(c.emit({ type: 'maxPool', kernel: [h, w], strides: [1, 1], pads: [0, 0, 0, 0] }, [x]));
};

/**
 * A run-time tensor of ONNX shape `from` given ONNX shape `to`: the same values in the same order
 * (C-order, batch 1). Images flatten channel-major, as the fully connected weights after them expect.
 */
export function reshaped(c: Lowering, x: RuntimeValue, to: readonly number[]): Value {
  const from = x.shape;
  if (from.join() === to.join()) return out(x);
  const count = from.reduce((a, b) => a * b, 1);
  if (to.length === 2 && to[0] === 1 && to[1] === count) {
    if (from.length === 4) return out(c.emit({ type: 'flatten', order: 'chw' }, [x]));
    if (from.length === 2) return out(x);
  }
  if (to.length === 4 && to[0] === 1 && to[1] === count && to[2] === 1 && to[3] === 1) {
    return out(c.emit({ type: 'reshape' }, [x], undefined, [1, 1, 1, count]));
  }
  throw unsupportedSetting(c, `a reshape of [${from.join(', ')}] to [${to.join(', ')}]`);
}

const reshape: Lowerer = (c) => {
  const x = runtime(c, 0, 'input');
  const target = Array.from(constant(c, 1, 'target shape').data, Math.trunc);
  const count = x.shape.reduce((a, b) => a * b, 1);
  const known = target.map((d, i) => (d === 0 && !intAttr(c.attributes, 'allowzero', 0) ? x.shape[i]! : d));
  const rest = known.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return reshaped(
    c,
    x,
    known.map((d) => (d === -1 ? count / rest : d)),
  );
};

const flatten: Lowerer = (c) => {
  const x = runtime(c, 0, 'input');
  const axis = intAttr(c.attributes, 'axis', 1);
  const a = axis < 0 ? axis + x.shape.length : axis;
  const outer = x.shape.slice(0, a).reduce((p, q) => p * q, 1);
  return reshaped(c, x, [outer, x.shape.reduce((p, q) => p * q, 1) / outer]);
};

function squeezeLike(kind: 'Squeeze' | 'Unsqueeze'): Lowerer {
  return (c) => {
    const x = runtime(c, 0, 'input');
    const given = c.input(1);
    const axes = given?.kind === 'const' ? Array.from(given.tensor.data, Math.trunc) : intList(c.attributes, 'axes');
    const shape = [...x.shape];
    if (kind === 'Squeeze') {
      const norm = axes.map((a) => (a < 0 ? a + shape.length : a));
      return reshaped(
        c,
        x,
        shape.filter((d, i) => (norm.length ? !norm.includes(i) : d !== 1)),
      );
    }
    const rank = shape.length + axes.length;
    for (const a of axes.map((v) => (v < 0 ? v + rank : v)).sort((p, q) => p - q)) shape.splice(a, 0, 1);
    return reshaped(c, x, shape);
  };
}

const batchNormalization: Lowerer = (c) => {
  const x = runtime(c, 0, 'input');
  if (intAttr(c.attributes, 'training_mode', 0)) throw unsupportedSetting(c, 'training_mode = 1');
  const t = (i: number, role: string): tf.Tensor => c.keep(tf.tensor1d(floats(constant(c, i, role))));
  return out(
    c.emit({ type: 'batchNorm', epsilon: floatAttr(c, 'epsilon', 1e-5) }, [x], {
      gamma: t(1, 'scale'),
      beta: t(2, 'bias'),
      mean: t(3, 'mean'),
      variance: t(4, 'variance'),
    }),
  );
};

const concat: Lowerer = (c) => {
  const parts = Array.from({ length: c.inputCount }, (_, i) => runtime(c, i, `input ${i + 1}`));
  const rank = parts[0]!.shape.length;
  const axis = intAttr(c.attributes, 'axis', 1);
  if ((axis < 0 ? axis + rank : axis) !== 1) throw unsupportedSetting(c, `a concatenation along axis ${axis}`);
  return out(c.emit({ type: 'concat' }, parts));
};

const softmax: Lowerer = (c) => {
  const x = runtime(c, 0, 'input');
  const axis = intAttr(c.attributes, 'axis', c.opset >= 13 ? -1 : 1);
  if (x.shape.length !== 2 || (axis !== 1 && axis !== -1)) {
    throw unsupportedSetting(c, `a softmax along axis ${axis} of [${x.shape.join(', ')}]`);
  }
  return out(c.emit({ type: 'softmax' }, [x]));
};

const pad: Lowerer = (c) => {
  const x = runtime(c, 0, 'input');
  const mode = stringAttr(c, 'mode', 'constant');
  const pads = c.opset >= 11 ? Array.from(constant(c, 1, 'pads').data) : intList(c.attributes, 'pads');
  const value = c.opset >= 11 ? (optionalConstant(c, 2, 'constant value')?.data[0] ?? 0) : floatAttr(c, 'value', 0);
  if (mode !== 'constant' || value !== 0) throw unsupportedSetting(c, `${mode} padding with ${value}`);
  const [n0, c0, top, left, n1, c1, bottom, right] = pads as number[];
  if (pads.length !== 8 || n0 || c0 || n1 || c1 || pads.some((p) => p < 0)) {
    throw unsupportedSetting(c, `pads [${pads.join(', ')}] (WhyCam pads height and width only)`);
  }
  return out(c.emit({ type: 'pad', pads: [top!, bottom!, left!, right!] }, [x]));
};

const passThrough: Lowerer = (c) => out(runtime(c, 0, 'input'));

/** The standard-domain operations WhyCam lowers, by ONNX name. */
export const FLOAT_OPS: Readonly<Record<string, Lowerer>> = {
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
  BatchNormalization: batchNormalization,
  Relu: activation('relu'),
  Clip: clip,
  LeakyRelu: activation('leakyrelu', (c) => ({ alpha: floatAttr(c, 'alpha', 0.01) })),
  Sigmoid: activation('sigmoid'),
  Tanh: activation('tanh'),
  Softplus: activation('softplus'),
  // Keras' constants (0.2, 0.5) are the graph's own; others (PyTorch's 1/6) go with the node.
  HardSigmoid: activation('hardsigmoid', (c) => {
    const [alpha, beta] = [floatAttr(c, 'alpha', 0.2), floatAttr(c, 'beta', 0.5)];
    return alpha === 0.2 && beta === 0.5 ? {} : { alpha, beta };
  }),
  HardSwish: activation('hardswish'),
  Add: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  Div: binary('Div'),
  Concat: concat,
  MaxPool: pool('maxPool'),
  AveragePool: pool('avgPool'),
  GlobalAveragePool: (c) => out(c.emit({ type: 'globalAvgPool', keepDims: true }, [runtime(c, 0, 'input')])),
  GlobalMaxPool: globalMaxPool,
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeezeLike('Squeeze'),
  Unsqueeze: squeezeLike('Unsqueeze'),
  Softmax: softmax,
  Pad: pad,
  Dropout: passThrough,
  Identity: passThrough,
  // Run in float: a quantized tensor is its dequantized value, so (de)quantizing changes nothing.
  QuantizeLinear: passThrough,
  DequantizeLinear: passThrough,
};
