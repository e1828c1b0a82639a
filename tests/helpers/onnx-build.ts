/**
 * ONNX models written at test time with onnx-proto (never committed): small hand-built graphs
 * for single operations, and the float MobileNet V2 made from ../shared's int8 file by
 * dequantizing its weights into Conv / Clip / Add / GlobalAveragePool / Flatten / Gemm.
 * The conversion is this file's own, written from the ONNX operator definitions, not the importer's.
 */
import pkg from 'onnx-proto';

const { onnx } = pkg;

export interface TensorSpec {
  name: string;
  dims: number[];
  data: ArrayLike<number>;
  /** ONNX element type: 1 float (default), 2 uint8, 3 int8, 6 int32, 7 int64. */
  type?: number;
}

export type Attr = number | number[] | string | { float: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, Attr>;
}

export interface GraphSpec {
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  input: { name: string; dims: (number | string)[] };
  output: { name: string; dims: (number | string)[] };
  opset?: number;
  /** Extra operator sets, e.g. com.microsoft for QLinearAdd. */
  domains?: Record<string, number>;
}

function tensorProto(t: TensorSpec): InstanceType<typeof onnx.TensorProto> {
  const type = t.type ?? 1;
  const base = { name: t.name, dims: t.dims, dataType: type };
  if (type === 1) return onnx.TensorProto.create({ ...base, floatData: Array.from(t.data) });
  if (type === 7) return onnx.TensorProto.create({ ...base, int64Data: Array.from(t.data) });
  return onnx.TensorProto.create({ ...base, int32Data: Array.from(t.data) });
}

function attribute(name: string, v: Attr): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string')
    return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (typeof v === 'object') return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  return onnx.AttributeProto.create({ name, type: T.INT, i: v });
}

function valueInfo(name: string, dims: (number | string)[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: 1,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** The bytes of a .onnx file holding `spec`. */
export function onnxModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'whycam-tests',
    opsetImport: [
      { domain: '', version: spec.opset ?? 13 },
      ...Object.entries(spec.domains ?? {}).map(([domain, version]) => ({ domain, version })),
    ],
    graph: {
      name: 'test',
      node: spec.nodes.map((n, i) =>
        onnx.NodeProto.create({
          opType: n.op,
          domain: n.domain ?? '',
          name: n.name ?? `${n.op}_${i}`,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
        }),
      ),
      initializer: spec.initializers.map(tensorProto),
      input: [valueInfo(spec.input.name, spec.input.dims)],
      output: [valueInfo(spec.output.name, spec.output.dims)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Deterministic pseudo-random numbers in [−scale, scale) (a small LCG: the test's weights). */
export function noise(count: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 * scale - scale;
  });
}

// ---- reading a file back (protobufjs fills every repeated field, so these are the decoded shapes) ----

export interface DecodedTensor {
  name: string;
  dims: unknown[];
  dataType: number;
  rawData: Uint8Array;
  floatData: number[];
  int32Data: number[];
  int64Data: unknown[];
}
export interface DecodedNode {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute: { name: string; type: number; i: unknown; f: number; s: Uint8Array; ints: unknown[] }[];
}
export interface DecodedModel {
  graph: {
    node: DecodedNode[];
    initializer: DecodedTensor[];
    input: { name: string }[];
    output: { name: string }[];
  };
}

export function decodeModel(bytes: Uint8Array): DecodedModel {
  return onnx.ModelProto.decode(bytes) as unknown as DecodedModel;
}

// ---- the float MobileNet V2 from the int8 file ----

type Tensor = DecodedTensor;
type Long = { toNumber(): number };
const n = (v: unknown): number => (typeof v === 'number' ? v : (v as Long).toNumber());

function values(t: Tensor): number[] {
  const raw = t.rawData;
  const count = t.dims.map(n).reduce((a, b) => a * b, 1);
  if (!raw || raw.byteLength === 0) return t.dataType === 1 ? [...t.floatData] : [...t.int32Data].map(n);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: count }, (_, i) =>
    t.dataType === 1
      ? view.getFloat32(4 * i, true)
      : t.dataType === 2
        ? view.getUint8(i)
        : t.dataType === 3
          ? view.getInt8(i)
          : view.getInt32(4 * i, true),
  );
}

/**
 * The int8 MobileNet V2 as a float graph: each QLinearConv a Conv with weights (q − zp) · scale
 * (per output channel) and bias q · x_scale · w_scale, followed by Clip(0, 6) where its output
 * range starts at 0 (the ReLU6 the quantizer fused); QLinearAdd an Add; the pooling a
 * GlobalAveragePool and a Flatten; QLinearMatMul and the bias QLinearAdd after it one Gemm.
 */
export function floatMobileNetV2(int8: Uint8Array): Uint8Array {
  const g = decodeModel(int8).graph;
  const init = new Map(g.initializer.map((t) => [t.name, t]));
  const v = (name: string): number[] => values(init.get(name)!);
  const dims = (name: string): number[] => init.get(name)!.dims.map(n);
  const nodes: NodeSpec[] = [];
  const initializers: TensorSpec[] = [];
  const rename = new Map<string, string>();
  const src = (name: string): string => rename.get(name) ?? name;
  /** (q − zp) · scale, per tensor or per index along `axis` (0: a filter's output channels, 1: a matrix's columns). */
  const dequantized = (q: string, scale: string, zp: string, axis: number): number[] => {
    const [qs, ss, zs] = [v(q), v(scale), v(zp)];
    const d = dims(q);
    const inner = d.slice(axis + 1).reduce((x, y) => x * y, 1);
    return qs.map((x, i) => {
      const c = ss.length === 1 ? 0 : Math.floor(i / inner) % d[axis]!;
      return (x - zs[zs.length === 1 ? 0 : c]!) * ss[c]!;
    });
  };
  const reluRange = (zp: string): boolean => v(zp)[0] === 0;
  let biasForGemm: { name: string; scale: number; zp: number } | undefined;
  for (const node of g.node) {
    const [a, b] = [node.input, node.output];
    const attrs = Object.fromEntries(
      node.attribute.map((x) => [x.name, x.ints.length ? x.ints.map(n) : n(x.i)]),
    ) as Record<string, Attr>;
    switch (node.opType) {
      case 'QuantizeLinear':
      case 'DequantizeLinear':
        rename.set(b[0]!, src(a[0]!));
        break;
      case 'QLinearConv': {
        const wName = `${node.name}_W`;
        const wd = dims(a[3]!);
        initializers.push({ name: wName, dims: wd, data: dequantized(a[3]!, a[4]!, a[5]!, 0) });
        const xScale = v(a[1]!)[0]!;
        const ws = v(a[4]!);
        initializers.push({
          name: `${node.name}_B`,
          dims: [wd[0]!],
          data: v(a[8]!).map((q, o) => q * xScale * ws[ws.length === 1 ? 0 : o]!),
        });
        const out = reluRange(a[7]!) ? `${b[0]}_conv` : b[0]!;
        nodes.push({
          op: 'Conv',
          name: node.name.replace(/_quant$/, ''),
          inputs: [src(a[0]!), wName, `${node.name}_B`],
          outputs: [out],
          attrs,
        });
        if (out !== b[0]) {
          initializers.push(
            { name: `${node.name}_lo`, dims: [], data: [0] },
            { name: `${node.name}_hi`, dims: [], data: [6] },
          );
          nodes.push({ op: 'Clip', inputs: [out, `${node.name}_lo`, `${node.name}_hi`], outputs: [b[0]!] });
        }
        break;
      }
      case 'QLinearAdd':
        if (init.has(a[3]!)) {
          // The classifier's bias, after QLinearMatMul: it goes into the Gemm.
          biasForGemm = { name: a[3]!, scale: v(a[4]!)[0]!, zp: v(a[5]!)[0]! };
          const gemm = nodes.at(-1)!;
          initializers.push({
            name: 'fc_bias',
            dims: [dims(a[3]!)[0]!],
            data: v(a[3]!).map((q) => (q - biasForGemm!.zp) * biasForGemm!.scale),
          });
          gemm.inputs.push('fc_bias');
          rename.set(b[0]!, gemm.outputs[0]!);
        } else {
          nodes.push({
            op: 'Add',
            name: node.name.replace(/_quant$/, ''),
            inputs: [src(a[0]!), src(a[3]!)],
            outputs: [b[0]!],
          });
        }
        break;
      case 'QLinearGlobalAveragePool':
        nodes.push({ op: 'GlobalAveragePool', inputs: [src(a[0]!)], outputs: [`${b[0]}_4d`] });
        nodes.push({ op: 'Flatten', inputs: [`${b[0]}_4d`], outputs: [b[0]!], attrs: { axis: 1 } });
        break;
      case 'Reshape':
        // [1, 1280] already: the Flatten above made it.
        rename.set(b[0]!, src(a[0]!));
        break;
      case 'QLinearMatMul': {
        const bd = dims(a[3]!);
        initializers.push({ name: 'fc_W', dims: bd, data: dequantized(a[3]!, a[4]!, a[5]!, 1) });
        nodes.push({ op: 'Gemm', name: 'Gemm_104', inputs: [src(a[0]!), 'fc_W'], outputs: ['logits'] });
        break;
      }
      case 'Shape':
      case 'Gather':
      case 'Unsqueeze':
      case 'Concat':
        break;
      default:
        throw new Error(`floatMobileNetV2: no conversion for ${node.opType}`);
    }
  }
  return onnxModel({
    nodes,
    initializers,
    input: { name: 'input', dims: ['batch_size', 3, 224, 224] },
    output: { name: src('output'), dims: ['batch_size', 1000] },
    opset: 13,
  });
}
