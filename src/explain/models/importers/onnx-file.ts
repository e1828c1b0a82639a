/**
 * An ONNX file (ModelProto) read with `onnx-proto` (the ONNX schema compiled for protobufjs) into
 * plain records the importer walks: nodes with their attributes, constant tensors as typed
 * arrays, and the graph's declared inputs and outputs. Nothing here knows the engine.
 */
import pkg from 'onnx-proto';
import { WhyCamError } from '../../errors.js';

const { onnx } = pkg;

/** A tensor whose value is known at import: an initializer, a Constant, or one folded from them. */
export interface ConstTensor {
  dims: number[];
  /** Float data as float32 (what the engine runs in); integer and boolean data as exact numbers. */
  data: Float32Array | number[];
  /** The ONNX element type (1 float, 2 uint8, 3 int8, 6 int32, 7 int64, …), for messages and QLinear ranges. */
  dataType: number;
}

export type AttributeValue = number | string | number[] | ConstTensor;

export interface OnnxNode {
  opType: string;
  /** '' for the standard operator set (ai.onnx). */
  domain: string;
  name: string;
  /** Tensor names; '' marks an optional input left out. */
  inputs: string[];
  outputs: string[];
  attributes: ReadonlyMap<string, AttributeValue>;
}

/** A declared graph input or output: its dimensions, a name where the file leaves one open. */
export interface OnnxValueInfo {
  name: string;
  dims: (number | string)[];
}

export interface OnnxModel {
  /** Operator-set version by domain ('' = ai.onnx). */
  opsets: ReadonlyMap<string, number>;
  producer: string;
  nodes: OnnxNode[];
  initializers: ReadonlyMap<string, ConstTensor>;
  /** Inputs that are not initializers (older exporters list weights as inputs too). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** Element types the importer reads (others are named when a constant uses them). */
export const ONNX_TYPES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
};

/** protobufjs gives 64-bit integers as numbers, or as Long objects where the `long` package is found. */
type Long = { toNumber(): number };
const num = (v: unknown): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : (v as Long).toNumber();

type TensorProto = InstanceType<typeof onnx.TensorProto>;
type Proto<T> = { [K in keyof T]?: T[K] | null };

/** Parses the bytes of a `.onnx` file; a file that is not one is named. */
export function readOnnxModel(bytes: Uint8Array, location: string): OnnxModel {
  let proto: InstanceType<typeof onnx.ModelProto>;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new WhyCamError(
      'model-corrupt',
      `${location} is not an ONNX model (${(e as Error).message}).`,
      'Export it again with torch.onnx.export (or your framework’s ONNX exporter).',
    );
  }
  const graph = proto.graph;
  const nodes = graph?.node ?? [];
  if (!graph || nodes.length === 0) {
    throw new WhyCamError('model-corrupt', `${location} holds no graph: it is not an ONNX model, or it is damaged.`);
  }
  const initializers = new Map<string, ConstTensor>();
  for (const t of graph.initializer ?? []) initializers.set(t.name ?? '', readTensor(t, location));
  const valueInfo = (v: Proto<InstanceType<typeof onnx.ValueInfoProto>>): OnnxValueInfo => ({
    name: v.name ?? '',
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
      d.dimValue !== null && d.dimValue !== undefined && num(d.dimValue) > 0 ? num(d.dimValue) : d.dimParam || '?',
    ),
  });
  return {
    opsets: new Map(
      (proto.opsetImport ?? []).map((o) => [o.domain === 'ai.onnx' ? '' : o.domain || '', num(o.version)]),
    ),
    producer: [proto.producerName, proto.producerVersion].filter(Boolean).join(' '),
    nodes: nodes.map((n, i) => ({
      opType: n.opType ?? '',
      domain: n.domain === 'ai.onnx' ? '' : n.domain || '',
      name: n.name || `${n.opType}_${i}`,
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attributes: new Map((n.attribute ?? []).map((a) => [a.name ?? '', attributeValue(a, location)])),
    })),
    initializers,
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(valueInfo),
    outputs: (graph.output ?? []).map(valueInfo),
  };
}

function attributeValue(a: Proto<InstanceType<typeof onnx.AttributeProto>>, location: string): AttributeValue {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.FLOAT:
      return a.f ?? 0;
    case T.INT:
      return num(a.i);
    case T.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case T.FLOATS:
      return [...(a.floats ?? [])];
    case T.INTS:
      return (a.ints ?? []).map(num);
    case T.TENSOR:
      return readTensor(a.t ?? {}, location);
    default:
      // Graphs, sparse tensors and type protos: no CNN operation the importer runs has them.
      return [];
  }
}

/** The values of a TensorProto, from `raw_data` (little-endian) or the typed fields. */
export function readTensor(proto: Proto<TensorProto>, location: string): ConstTensor {
  const t = proto;
  const dataType = t.dataType ?? 0;
  const dims = (t.dims ?? []).map(num);
  const count = dims.reduce((a, b) => a * b, 1);
  const name = t.name ? `"${t.name}"` : 'a constant';
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new WhyCamError(
      'unsupported-model',
      `${location} keeps tensor ${name} in an external data file.`,
      'Export the model as one file (torch.onnx.export without external data; models under 2 GB).',
    );
  }
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const size = { 1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8 }[dataType];
  if (size === undefined) {
    throw new WhyCamError(
      'unsupported-model',
      `${location}: tensor ${name} has ONNX element type ${dataType}, which WhyCam does not read.`,
      `Readable element types: ${Object.values(ONNX_TYPES).join(', ')}.`,
    );
  }
  if (view && view.byteLength !== count * size) {
    throw new WhyCamError(
      'model-corrupt',
      `${location}: tensor ${name} holds ${view.byteLength} bytes for ${dims.join('×') || 'a scalar'} ${ONNX_TYPES[dataType]} values: the file is damaged.`,
    );
  }
  const at = (i: number): number => {
    if (!view) return 0;
    switch (dataType) {
      case 1:
        return view.getFloat32(4 * i, true);
      case 2:
      case 9:
        return view.getUint8(i);
      case 3:
        return view.getInt8(i);
      case 5:
        return view.getInt16(2 * i, true);
      case 6:
        return view.getInt32(4 * i, true);
      case 7:
        return Number(view.getBigInt64(8 * i, true));
      case 10:
        return halfToFloat(view.getUint16(2 * i, true));
      default:
        return view.getFloat64(8 * i, true);
    }
  };
  const typed: readonly unknown[] | null = view
    ? null
    : dataType === 1
      ? (t.floatData ?? [])
      : dataType === 10
        ? (t.int32Data ?? []).map(halfToFloat)
        : dataType === 7
          ? (t.int64Data ?? [])
          : dataType === 11
            ? (t.doubleData ?? [])
            : (t.int32Data ?? []);
  if (typed && typed.length !== count) {
    throw new WhyCamError(
      'model-corrupt',
      `${location}: tensor ${name} holds ${typed.length} values for shape [${dims.join(', ')}]: the file is damaged.`,
    );
  }
  const isFloat = dataType === 1 || dataType === 10 || dataType === 11;
  const data = isFloat ? new Float32Array(count) : new Array<number>(count);
  for (let i = 0; i < count; i++) data[i] = typed ? num(typed[i]) : at(i);
  return { dims, data, dataType: isFloat ? 1 : dataType };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
