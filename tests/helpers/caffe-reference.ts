/**
 * A Caffe deploy net run with plain tfjs ops, written from Caffe's own layer definitions
 * (caffe/src/caffe/layers/*.cpp) and sharing nothing with the importer but the prototxt parser:
 * the check that the importer's graph computes what Caffe computes. NHWC throughout; weights in
 * caffejs's layout (filters (out, kh, kw, in / group), InnerProduct (out, in) as Caffe holds it).
 * Shapes are not inferred ahead: each op works on the tensor it gets.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { RgbaImage } from '../../src/explain/runtime/input.js';
import { parsePrototxt, type PbMessage, type PbValue } from '../../src/explain/models/importers/prototxt.js';

export interface CaffeReference {
  /** Every layer's name, type and top, in file order. */
  layers: readonly { name: string; type: string; top: string }[];
  /**
   * Every blob's final value (after in-place layers) for the data blob `x`. `from` replaces a
   * blob's final value, so that tf.grad can differentiate what follows with respect to it.
   * Intermediates are not disposed (tf.grad needs them): call it inside tf.tidy.
   */
  run(x: tf.Tensor4D, opts?: { from?: { blob: string; value: tf.Tensor } }): Map<string, tf.Tensor>;
  dispose(): void;
}

export type ReferenceFileReader = (path: string) => Promise<Uint8Array | null>;

interface RefLayer {
  name: string;
  type: string;
  bottoms: string[];
  top: string;
  p: PbMessage;
  filter?: tf.Tensor;
  bias?: tf.Tensor;
}

const last = (m: PbMessage, f: string): PbValue | undefined => m[f]?.[m[f].length - 1];
const num = (m: PbMessage, f: string, d: number): number => (last(m, f) as number | undefined) ?? d;
const str = (m: PbMessage, f: string, d: string): string => (last(m, f) as string | undefined) ?? d;
const sub = (m: PbMessage, f: string): PbMessage => (last(m, f) as PbMessage | undefined) ?? {};
const strs = (m: PbMessage, f: string): string[] => (m[f] ?? []) as string[];

/** [h, w] of a setting spelt `field` (one or two values) or `prefix_h` / `prefix_w`. */
function hw(m: PbMessage, field: string, prefix: string, d: number): [number, number] {
  const v = (m[field] ?? []) as number[];
  const h = last(m, `${prefix}_h`) as number | undefined;
  const w = last(m, `${prefix}_w`) as number | undefined;
  if (h !== undefined || w !== undefined) return [h ?? d, w ?? d];
  return [v[0] ?? d, v[1] ?? v[0] ?? d];
}

function floats(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export async function loadCaffeReference(dir: string): Promise<CaffeReference> {
  const prototxt = await fs.readFile(path.join(dir, 'deploy.prototxt'), 'utf8');
  return caffeReference(prototxt, async (p) => {
    try {
      return new Uint8Array(await fs.readFile(path.join(dir, p)));
    } catch {
      return null;
    }
  });
}

/** The reference for a prototxt whose weight files `read` gives (`weights/<layer>_filter.bin`, …). */
export async function caffeReference(prototxt: string, read: ReferenceFileReader): Promise<CaffeReference> {
  const net = parsePrototxt(prototxt);
  const layers: RefLayer[] = [];
  const oldInput = strs(net, 'input')[0];
  if (oldInput) layers.push({ name: oldInput, type: 'Input', bottoms: [], top: oldInput, p: {} });
  for (const p of (net['layer'] ?? []) as PbMessage[]) {
    const layer: RefLayer = {
      name: str(p, 'name', ''),
      type: str(p, 'type', ''),
      bottoms: strs(p, 'bottom'),
      top: strs(p, 'top')[0]!,
      p,
    };
    if (layer.type === 'Convolution' || layer.type === 'InnerProduct') {
      const param = sub(p, layer.type === 'Convolution' ? 'convolution_param' : 'inner_product_param');
      const out = num(param, 'num_output', 0);
      const filter = await read(`weights/${layer.name}_filter.bin`);
      if (!filter) throw new Error(`reference: no filter for ${layer.name}`);
      const data = floats(filter);
      if (layer.type === 'Convolution') {
        const [kh, kw] = hw(param, 'kernel_size', 'kernel', 0);
        // Stored (out, kh, kw, in / group): the input depth per group is what the file holds.
        const inPerGroup = data.length / (out * kh * kw);
        layer.filter = tf.tidy(() => tf.transpose(tf.tensor4d(data, [out, kh, kw, inPerGroup]), [1, 2, 3, 0]));
      } else {
        const transposed = str(param, 'transpose', 'false') === 'true';
        layer.filter = tf.tensor2d(data, transposed ? [data.length / out, out] : [out, data.length / out]);
      }
      if (str(param, 'bias_term', 'true') === 'true') {
        const bias = await read(`weights/${layer.name}_bias.bin`);
        if (!bias) throw new Error(`reference: no bias for ${layer.name}`);
        layer.bias = tf.tensor1d(floats(bias));
      }
    }
    layers.push(layer);
  }
  const lastWriter = new Map(layers.map((l, i) => [l.top, i]));
  return {
    layers: layers.map(({ name, type, top }) => ({ name, type, top })),
    run(x, opts) {
      const blobs = new Map<string, tf.Tensor>();
      layers.forEach((layer, i) => {
        let y =
          layer.type === 'Input'
            ? x
            : forward(
                layer,
                layer.bottoms.map((b) => blobs.get(b)!),
              );
        if (opts?.from?.blob === layer.top && lastWriter.get(layer.top) === i) y = opts.from.value;
        blobs.set(layer.top, y);
      });
      return blobs;
    },
    dispose() {
      for (const l of layers) {
        l.filter?.dispose();
        l.bias?.dispose();
      }
    },
  };
}

/** An NCHW-order flattening of an NHWC map ([1, C·H·W]), as Caffe's blobs are laid out. */
function flattenNchw(x: tf.Tensor): tf.Tensor {
  return x.rank === 4 ? tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [1, -1]) : tf.reshape(x, [1, -1]);
}

/** Caffe's axis of an NCHW blob (or an (N, C) one) as the NHWC axis. */
function nhwcAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return rank === 4 ? [0, 3, 1, 2][a]! : a;
}

function forward(layer: RefLayer, xs: tf.Tensor[]): tf.Tensor {
  const x = xs[0]!;
  const p = layer.p;
  switch (layer.type) {
    case 'Convolution':
      return convolution(layer, x as tf.Tensor4D);
    case 'ReLU': {
      // y = max(x, 0) + negative_slope · min(x, 0)
      const slope = num(sub(p, 'relu_param'), 'negative_slope', 0);
      return tf.add(tf.maximum(x, 0), tf.mul(tf.minimum(x, 0), slope));
    }
    case 'Sigmoid':
      return tf.div(1, tf.add(1, tf.exp(tf.neg(x))));
    case 'TanH':
      return tf.tanh(x);
    case 'ELU': {
      const alpha = num(sub(p, 'elu_param'), 'alpha', 1);
      return tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.sub(tf.exp(x), 1)));
    }
    case 'Pooling':
      return pooling(sub(p, 'pooling_param'), x as tf.Tensor4D);
    case 'LRN':
      return lrn(sub(p, 'lrn_param'), x as tf.Tensor4D);
    case 'Concat': {
      const cp = sub(p, 'concat_param');
      return tf.concat(xs, nhwcAxis(num(cp, 'axis', num(cp, 'concat_dim', 1)), x.rank));
    }
    case 'Eltwise': {
      const ep = sub(p, 'eltwise_param');
      const op = str(ep, 'operation', 'SUM');
      if (op === 'PROD') return xs.reduce((a, b) => tf.mul(a, b));
      if (op === 'MAX') return xs.reduce((a, b) => tf.maximum(a, b));
      const coeff = (ep['coeff'] ?? []) as number[];
      return xs.map((t, i) => tf.mul(t, coeff[i] ?? 1)).reduce((a, b) => tf.add(a, b));
    }
    case 'Dropout':
      return x; // inference: Caffe scales at training time, so the test phase is the identity
    case 'Flatten':
      return flattenNchw(x);
    case 'InnerProduct': {
      const transposed = str(sub(p, 'inner_product_param'), 'transpose', 'false') === 'true';
      const y = tf.matMul(flattenNchw(x) as tf.Tensor2D, layer.filter as tf.Tensor2D, false, !transposed);
      return layer.bias ? tf.add(y, layer.bias) : y;
    }
    case 'Softmax': {
      // exp(x − max) / Σ exp(x − max) over Caffe's axis 1 (channels), the last axis here.
      const axis = nhwcAxis(num(sub(p, 'softmax_param'), 'axis', 1), x.rank);
      const e = tf.exp(tf.sub(x, tf.max(x, axis, true)));
      return tf.div(e, tf.sum(e, axis, true));
    }
    default:
      throw new Error(`reference: no Caffe ${layer.type}`);
  }
}

function convolution(layer: RefLayer, x: tf.Tensor4D): tf.Tensor {
  const cp = sub(layer.p, 'convolution_param');
  const strides = hw(cp, 'stride', 'stride', 1);
  const [ph, pw] = hw(cp, 'pad', 'pad', 0);
  const d = (cp['dilation'] ?? []) as number[];
  const dilations: [number, number] = [d[0] ?? 1, d[1] ?? d[0] ?? 1];
  const groups = num(cp, 'group', 1);
  const pad: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [ph, ph],
    [pw, pw],
    [0, 0],
  ];
  // Group g convolves input channels [g·in/G, (g+1)·in/G) into outputs [g·out/G, (g+1)·out/G).
  // (No split for one group: tf.grad through a one-way split fails in tfjs' SplitV gradient.)
  const inputs = groups === 1 ? [x] : (tf.split(x, groups, 3) as tf.Tensor4D[]);
  const kernels =
    groups === 1 ? [layer.filter as tf.Tensor4D] : (tf.split(layer.filter as tf.Tensor4D, groups, 3) as tf.Tensor4D[]);
  const parts = inputs.map((xi, g) => tf.conv2d(xi, kernels[g]!, strides, pad, 'NHWC', dilations));
  const y = parts.length === 1 ? parts[0]! : tf.concat(parts, 3);
  return layer.bias ? tf.add(y, layer.bias) : y;
}

/** Caffe's pooled length: rounded up, less a last window that would start beyond the input and its leading pad. */
function pooledLength(size: number, k: number, s: number, p: number, anyPad: boolean, ceil: boolean): number {
  const n = (ceil ? Math.ceil((size + 2 * p - k) / s) : Math.floor((size + 2 * p - k) / s)) + 1;
  return anyPad && (n - 1) * s >= size + p ? n - 1 : n;
}

function pooling(pp: PbMessage, x: tf.Tensor4D): tf.Tensor {
  const [, h, w, c] = x.shape;
  const global = str(pp, 'global_pooling', 'false') === 'true';
  const [kh, kw] = global ? [h, w] : hw(pp, 'kernel_size', 'kernel', 0);
  const [sh, sw] = global ? [1, 1] : hw(pp, 'stride', 'stride', 1);
  const [ph, pw] = global ? [0, 0] : hw(pp, 'pad', 'pad', 0);
  const ceil = str(pp, 'round_mode', 'CEIL') === 'CEIL';
  const anyPad = ph > 0 || pw > 0;
  const oh = pooledLength(h, kh, sh, ph, anyPad, ceil);
  const ow = pooledLength(w, kw, sw, pw, anyPad, ceil);
  // Window (i, j) covers rows [i·sh − ph, i·sh − ph + kh) of the input: pad so every window lies inside.
  const padding: [number, number][] = [
    [0, 0],
    [ph, Math.max(0, (oh - 1) * sh + kh - h - ph)],
    [pw, Math.max(0, (ow - 1) * sw + kw - w - pw)],
    [0, 0],
  ];
  const crop = (t: tf.Tensor4D): tf.Tensor4D => tf.slice(t, [0, 0, 0, 0], [1, oh, ow, c]);
  if (str(pp, 'pool', 'MAX') === 'MAX') {
    // Caffe's max runs over the window clipped to the input: padding never wins.
    return crop(tf.maxPool(tf.pad(x, padding, -Infinity), [kh, kw], [sh, sw], 'valid'));
  }
  // AVE: the window's sum over the input, divided by the window's size clipped to the input grown by the padding.
  const sum = tf.mul(crop(tf.avgPool(tf.pad(x, padding, 0), [kh, kw], [sh, sw], 'valid')), kh * kw);
  const divisor = new Float32Array(oh * ow);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      const [hs, ws] = [i * sh - ph, j * sw - pw];
      divisor[i * ow + j] = (Math.min(hs + kh, h + ph) - hs) * (Math.min(ws + kw, w + pw) - ws);
    }
  }
  return tf.div(sum, tf.tensor4d(divisor, [1, oh, ow, 1]));
}

/** Caffe's ACROSS_CHANNELS LRN: b = a / (k + alpha / n · Σ a²)^beta, the sum over the n channels centred on a's. */
function lrn(lp: PbMessage, x: tf.Tensor4D): tf.Tensor {
  if (str(lp, 'norm_region', 'ACROSS_CHANNELS') !== 'ACROSS_CHANNELS') throw new Error('reference: LRN WITHIN_CHANNEL');
  const [, h, w, c] = x.shape;
  const n = num(lp, 'local_size', 5);
  const half = (n - 1) / 2;
  const band = new Float32Array(c * c);
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) band[i * c + j] = Math.abs(i - j) <= half ? 1 : 0;
  const sums = tf.reshape(tf.matMul(tf.reshape(tf.square(x), [h * w, c]), tf.tensor2d(band, [c, c])), [1, h, w, c]);
  const scale = tf.add(num(lp, 'k', 1), tf.mul(num(lp, 'alpha', 1) / n, sums));
  return tf.mul(x, tf.pow(scale, -num(lp, 'beta', 0.75)));
}

/**
 * A picture as a Caffe ImageNet net's data blob: the whole picture resized (bilinear, half-pixel
 * centres) to `size`, channels reversed to BGR, minus the mean (B 104, G 117, R 123).
 */
export function caffeInput(image: RgbaImage, size: readonly [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const rgba = tf.tensor3d(Float32Array.from(image.data), [image.height, image.width, 4]);
    const rgb = tf.slice(rgba, [0, 0, 0], [image.height, image.width, 3]);
    const resized = tf.image.resizeBilinear(rgb, [size[0], size[1]], false, true);
    const bgr = tf.reverse(resized, 2);
    return tf.expandDims(tf.sub(bgr, tf.tensor1d([104, 117, 123])), 0) as tf.Tensor4D;
  });
}
