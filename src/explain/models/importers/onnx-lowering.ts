/**
 * What lowering one ONNX operation works with: the values it reads (constants, or tensors the
 * engine computes), the graph it adds nodes to, and the readers of attributes and inputs every
 * operation shares, which name the node and the problem when a model is outside what WhyCam runs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../../errors.js';
import type { Activation } from '../../network/activations.js';
import type { ConvPadding, Op, Padding4 } from '../../network/graph.js';
import { intList } from './onnx-constants.js';
import type { AttributeValue, ConstTensor } from './onnx-file.js';

/** A tensor computed at run time: the engine node that makes it, and its shape in ONNX's order. */
export interface RuntimeValue {
  node: string;
  shape: readonly number[];
}

export type Value = { kind: 'const'; tensor: ConstTensor } | ({ kind: 'runtime' } & RuntimeValue);

/** What an operation's lowering sees and may do. */
export interface Lowering {
  opType: string;
  /** `node "<name>" (<op>)`, for messages. */
  where: string;
  attributes: ReadonlyMap<string, AttributeValue>;
  opset: number;
  /** The i-th input; undefined where the node leaves an optional one out. */
  input(i: number): Value | undefined;
  inputCount: number;
  /** Adds a node computing `op` on `inputs`; `shape` (NHWC) only for reshapes, else inferred. */
  emit(op: Op, inputs: readonly RuntimeValue[], weights?: Record<string, tf.Tensor>, shape?: number[]): RuntimeValue;
  /** Adds `bias` (one value per channel) to a conv / dense node without an activation, if it can. */
  foldBias(value: RuntimeValue, bias: Float32Array): boolean;
  /** Gives a conv / dense node without an activation one, if it can. */
  foldActivation(value: RuntimeValue, activation: Activation): boolean;
  /** Keeps a tensor made for a node's weights, for the graph's dispose(). */
  keep<T extends tf.Tensor>(t: T): T;
}

export type Lowerer = (c: Lowering) => Value;

export const runtime = (c: Lowering, i: number, role: string): RuntimeValue => {
  const v = c.input(i);
  if (v?.kind !== 'runtime') {
    throw new WhyCamError(
      'unsupported-model',
      `${c.where}: its ${role} ${v ? 'is a constant' : 'is missing'}; WhyCam runs ${c.opType} only on the image's own tensors.`,
    );
  }
  return v;
};

export const constant = (c: Lowering, i: number, role: string): ConstTensor => {
  const v = c.input(i);
  if (v?.kind !== 'const') {
    throw new WhyCamError(
      'unsupported-model',
      `${c.where}: its ${role} ${v ? 'is computed at run time' : 'is missing'}; WhyCam needs it stored in the file.`,
    );
  }
  return v.tensor;
};

export const optionalConstant = (c: Lowering, i: number, role: string): ConstTensor | undefined =>
  c.input(i) ? constant(c, i, role) : undefined;

export const out = (v: RuntimeValue): Value => ({ kind: 'runtime', ...v });

export const unsupportedSetting = (c: Lowering, what: string): WhyCamError =>
  new WhyCamError('unsupported-model', `${c.where} has ${what}, which WhyCam cannot run.`);

export const floatAttr = (c: Lowering, name: string, fallback: number): number => {
  const v = c.attributes.get(name);
  return typeof v === 'number' ? v : fallback;
};

export const stringAttr = (c: Lowering, name: string, fallback: string): string => {
  const v = c.attributes.get(name);
  return typeof v === 'string' ? v : fallback;
};

export const pair = (c: Lowering, name: string, fallback: number): [number, number] => {
  const v = intList(c.attributes, name);
  if (v.length === 0) return [fallback, fallback];
  if (v.length !== 2) throw unsupportedSetting(c, `${name} [${v.join(', ')}] (WhyCam runs 2-D windows only)`);
  return [v[0]!, v[1]!];
};

/** ONNX's [top, left, bottom, right] as the graph's [top, bottom, left, right], or auto_pad's rule. */
export function padding(
  c: Lowering,
  [h, w]: readonly [number, number],
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
): Padding4 | 'same' {
  const auto = stringAttr(c, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') return [0, 0, 0, 0];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const split = (size: number, k: number, s: number, d: number): [number, number] => {
      const total = Math.max(0, (Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size);
      const small = Math.floor(total / 2);
      return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    };
    const [top, bottom] = split(h, kernel[0], strides[0], dilations[0]);
    const [left, right] = split(w, kernel[1], strides[1], dilations[1]);
    return [top, bottom, left, right];
  }
  const p = intList(c.attributes, 'pads');
  if (p.length === 0) return [0, 0, 0, 0];
  if (p.length !== 4 || p.some((x) => x < 0)) throw unsupportedSetting(c, `pads [${p.join(', ')}]`);
  return [p[0]!, p[2]!, p[1]!, p[3]!];
}

export const asConvPadding = (p: Padding4 | 'same'): ConvPadding =>
  p === 'same' ? 'same' : p.every((x) => x === 0) ? 'valid' : p;

/** Float data of a constant (integer constants as floats: a Reshape's shape is never read here). */
export const floats = (t: ConstTensor): Float32Array =>
  t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);

export function spatialOf(c: Lowering, x: RuntimeValue): [number, number, number] {
  if (x.shape.length !== 4) {
    throw unsupportedSetting(c, `an input of shape [${x.shape.join(', ')}] (WhyCam runs images: [1, C, H, W])`);
  }
  return [x.shape[1]!, x.shape[2]!, x.shape[3]!];
}
