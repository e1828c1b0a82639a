/**
 * Folding what an ONNX graph computes from constants alone: the Shape → Gather → Unsqueeze →
 * Concat chains exporters emit to build a Reshape's target, Constant nodes, casts, and weights
 * stored quantized (DequantizeLinear of an initializer). Evaluated once at import in plain
 * JavaScript, so the engine's graph never sees them.
 */
import { WhyCamError } from '../../errors.js';
import type { AttributeValue, ConstTensor } from './onnx-file.js';

/** What the folding needs of a tensor only known at run time: its (ONNX-order) shape. */
export interface ShapeOnly {
  shape: readonly number[];
}

export type FoldInput = ConstTensor | ShapeOnly | undefined;

const isConst = (v: FoldInput): v is ConstTensor => !!v && 'data' in v;

/** The operations folded when their inputs are constants (Shape: whatever its input). */
export const FOLDED_OPS = [
  'Constant',
  'Shape',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Cast',
  'Identity',
  'Reshape',
  'Flatten',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Slice',
  'DequantizeLinear',
] as const;

const FOLDED = new Set<string>(FOLDED_OPS);

export function scalarOf(t: ConstTensor): number {
  if (t.data.length !== 1) throw new Error('internal: not a scalar');
  return t.data[0]!;
}

function ints(t: ConstTensor): number[] {
  return Array.from(t.data, (v) => Math.trunc(v));
}

function intTensor(values: number[], dims = [values.length]): ConstTensor {
  return { dims, data: values, dataType: 7 };
}

/** The output of `opType` on constant inputs, or undefined when it cannot be folded. */
export function foldConstant(
  opType: string,
  inputs: readonly FoldInput[],
  attributes: ReadonlyMap<string, AttributeValue>,
  where: string,
): ConstTensor | undefined {
  if (!FOLDED.has(opType)) return undefined;
  if (opType === 'Shape') {
    const x = inputs[0]!;
    const shape = isConst(x) ? x.dims : x.shape;
    const rank = shape.length;
    const clamp = (i: number): number => Math.max(0, Math.min(rank, i < 0 ? i + rank : i));
    const start = clamp(intAttr(attributes, 'start', 0));
    const end = clamp(intAttr(attributes, 'end', rank));
    return intTensor(shape.slice(start, end));
  }
  if (opType === 'Constant') return constantValue(attributes, where);
  const given = inputs.filter((v) => v !== undefined);
  if (given.length === 0 || !given.every(isConst)) return undefined;
  const [a, b] = inputs as (ConstTensor | undefined)[];
  switch (opType) {
    case 'Identity':
      return a;
    case 'Cast': {
      const to = intAttr(attributes, 'to', 1);
      const isFloat = to === 1 || to === 10 || to === 11;
      return isFloat
        ? { dims: a!.dims, data: Float32Array.from(a!.data), dataType: 1 }
        : { dims: a!.dims, data: Array.from(a!.data, Math.trunc), dataType: to };
    }
    case 'Gather': {
      const axis = intAttr(attributes, 'axis', 0);
      if (axis !== 0 || a!.dims.length > 1) return undefined;
      const n = a!.data.length;
      const picked = ints(b!).map((i) => a!.data[i < 0 ? i + n : i]!);
      return { dims: b!.dims, data: a!.dataType === 1 ? Float32Array.from(picked) : picked, dataType: a!.dataType };
    }
    case 'Unsqueeze': {
      const axes = b ? ints(b) : intList(attributes, 'axes');
      const rank = a!.dims.length + axes.length;
      const dims = [...a!.dims];
      for (const axis of axes.map((x) => (x < 0 ? x + rank : x)).sort((x, y) => x - y)) dims.splice(axis, 0, 1);
      return { ...a!, dims };
    }
    case 'Squeeze': {
      const axes = (b ? ints(b) : intList(attributes, 'axes')).map((x) => (x < 0 ? x + a!.dims.length : x));
      const dims = a!.dims.filter((d, i) => (axes.length ? !axes.includes(i) : d !== 1));
      return { ...a!, dims };
    }
    case 'Concat': {
      const parts = inputs as ConstTensor[];
      if (parts.some((p) => p.dims.length !== 1)) return undefined;
      const data = parts.flatMap((p) => Array.from(p.data));
      const float = parts.some((p) => p.dataType === 1);
      return { dims: [data.length], data: float ? Float32Array.from(data) : data, dataType: float ? 1 : 7 };
    }
    case 'Reshape': {
      const target = ints(b!);
      const count = a!.data.length;
      const known = target.map((d, i) => (d === 0 ? a!.dims[i]! : d));
      const rest = known.filter((d) => d !== -1).reduce((x, y) => x * y, 1);
      return { ...a!, dims: known.map((d) => (d === -1 ? count / rest : d)) };
    }
    case 'Flatten': {
      const axis = intAttr(attributes, 'axis', 1);
      const outer = a!.dims.slice(0, axis).reduce((x, y) => x * y, 1);
      return { ...a!, dims: [outer, a!.data.length / outer] };
    }
    case 'Slice':
      return slice(a!, inputs.slice(1) as (ConstTensor | undefined)[], attributes);
    case 'DequantizeLinear':
      return dequantize(a!, b!, inputs[2] as ConstTensor | undefined, intAttr(attributes, 'axis', 1));
    default:
      return elementwise(opType, a!, b!);
  }
}

/** (q − zero point) × scale, per tensor or per slice along `axis`: exact in float32 for 8-bit data. */
export function dequantize(
  q: ConstTensor,
  scale: ConstTensor,
  zeroPoint: ConstTensor | undefined,
  axis: number,
): ConstTensor {
  const data = new Float32Array(q.data.length);
  if (scale.data.length === 1) {
    const s = scale.data[0]!;
    const z = zeroPoint?.data[0] ?? 0;
    for (let i = 0; i < data.length; i++) data[i] = (q.data[i]! - z) * s;
  } else {
    const ax = axis < 0 ? axis + q.dims.length : axis;
    const inner = q.dims.slice(ax + 1).reduce((x, y) => x * y, 1);
    const n = q.dims[ax]!;
    for (let i = 0; i < data.length; i++) {
      const c = Math.floor(i / inner) % n;
      data[i] = (q.data[i]! - (zeroPoint?.data[c] ?? 0)) * scale.data[c]!;
    }
  }
  return { dims: q.dims, data, dataType: 1 };
}

function elementwise(opType: string, a: ConstTensor, b: ConstTensor): ConstTensor | undefined {
  const [big, small] = a.data.length >= b.data.length ? [a, b] : [b, a];
  if (small.data.length !== 1 && small.data.length !== big.data.length) return undefined;
  const f = {
    Add: (x: number, y: number) => x + y,
    Sub: (x: number, y: number) => x - y,
    Mul: (x: number, y: number) => x * y,
    Div: (x: number, y: number) => (a.dataType === 1 ? x / y : Math.trunc(x / y)),
  }[opType]!;
  const at = (t: ConstTensor, i: number): number => (t.data.length === 1 ? t.data[0]! : t.data[i]!);
  const values = Array.from({ length: big.data.length }, (_, i) => f(at(a, i), at(b, i)));
  const float = a.dataType === 1 || b.dataType === 1;
  return { dims: big.dims, data: float ? Float32Array.from(values) : values, dataType: float ? 1 : a.dataType };
}

function slice(
  a: ConstTensor,
  [starts, ends, axes, steps]: (ConstTensor | undefined)[],
  attributes: ReadonlyMap<string, AttributeValue>,
): ConstTensor | undefined {
  if (a.dims.length !== 1) return undefined;
  const start = starts ? ints(starts)[0]! : intList(attributes, 'starts')[0]!;
  const end = ends ? ints(ends)[0]! : intList(attributes, 'ends')[0]!;
  if ((axes && ints(axes)[0] !== 0) || (steps && ints(steps)[0] !== 1)) return undefined;
  const n = a.data.length;
  const clamp = (i: number): number => Math.max(0, Math.min(n, i < 0 ? i + n : i));
  const values = Array.from(a.data).slice(clamp(start), clamp(end));
  return { dims: [values.length], data: a.dataType === 1 ? Float32Array.from(values) : values, dataType: a.dataType };
}

function constantValue(attributes: ReadonlyMap<string, AttributeValue>, where: string): ConstTensor {
  const value = attributes.get('value');
  if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  const f = attributes.get('value_float');
  if (typeof f === 'number') return { dims: [], data: Float32Array.of(f), dataType: 1 };
  const fs = attributes.get('value_floats');
  if (Array.isArray(fs)) return { dims: [fs.length], data: Float32Array.from(fs), dataType: 1 };
  const i = attributes.get('value_int');
  if (typeof i === 'number') return intTensor([i], []);
  const is = attributes.get('value_ints');
  if (Array.isArray(is)) return intTensor(is);
  throw new WhyCamError('unsupported-model', `${where}: a Constant without a numeric value.`);
}

export function intAttr(attributes: ReadonlyMap<string, AttributeValue>, name: string, fallback: number): number {
  const v = attributes.get(name);
  return typeof v === 'number' ? Math.trunc(v) : fallback;
}

export function intList(attributes: ReadonlyMap<string, AttributeValue>, name: string): number[] {
  const v = attributes.get(name);
  return Array.isArray(v) ? v.map(Math.trunc) : [];
}
