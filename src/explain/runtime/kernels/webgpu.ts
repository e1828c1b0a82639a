/**
 * WebGPU programs for WhyCam's kernels, in the shape tfjs-backend-webgpu runs (its
 * `runWebGPUProgram` prepends the bindings, uniforms and index helpers). Typed structurally so
 * that the engine does not import the backend: registering them costs nothing where it is absent.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { axisTapCount } from './reference.js';

interface Uniform {
  type: 'float32' | 'int32' | 'uint32';
  data: number[];
}
export interface WebGpuBackendLike {
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: Uniform[]): tf.TensorInfo;
}

const WORKGROUP = 64;

/** One invocation per output element, indexed flat. */
abstract class FlatProgram {
  abstract readonly variableNames: string[];
  abstract readonly shaderKey: string;
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  readonly size = true;
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  constructor(readonly outputShape: number[]) {
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(outputShape.reduce((a, b) => a * b, 1) / WORKGROUP), 1, 1];
  }
  abstract getUserCode(): string;
}

export class Relu6BackwardProgram extends FlatProgram {
  readonly variableNames = ['Dy', 'Y'];
  readonly shaderKey = 'whycamRelu6Backward';
  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let y = Y[index];
          setOutputAtIndex(index, select(0.0, Dy[index], y > 0.0 && y < 6.0));
        }
      }`;
  }
}

/** [1, h, w, C] gradients and activations → [h, w]: Σ_k relu(g) · a. */
const LAYER_CAM_WORKGROUP = 64;

/**
 * One workgroup per map cell: its invocations sum strided shares of the channels, then a tree
 * reduction in workgroup memory. (One invocation per cell looping over every channel left most
 * of the GPU idle: 196 invocations for a 14×14 map, 0.17 ms of H100 time per frame.)
 */
export class LayerCamProgram extends FlatProgram {
  readonly variableNames = ['G', 'A'];
  readonly shaderKey: string;
  override readonly workgroupSize: [number, number, number] = [LAYER_CAM_WORKGROUP, 1, 1];
  override readonly dispatch: [number, number, number];
  /** `rectify` false: HiResCAM's Σ_k g · a (the same reduction without the ReLU on g). */
  constructor(
    outputShape: number[],
    private readonly rectify = true,
  ) {
    super(outputShape);
    this.shaderKey = rectify ? 'whycamLayerCamReduce' : 'whycamHiResCamReduce';
    this.dispatch = [outputShape.reduce((a, b) => a * b, 1), 1, 1];
  }
  getUserCode(): string {
    return `
      var<workgroup> partial : array<f32, ${LAYER_CAM_WORKGROUP}>;
      fn main(index : i32) {
        let cell = i32(workgroupId.x);
        let t = i32(localId.x);
        let channels = uniforms.gShape.w;
        let base = cell * channels;
        var sum = 0.0;
        for (var k = t; k < channels; k = k + ${LAYER_CAM_WORKGROUP}) {
          sum += ${this.rectify ? 'max(G[base + k], 0.0)' : 'G[base + k]'} * A[base + k];
        }
        partial[t] = sum;
        workgroupBarrier();
        for (var stride = ${LAYER_CAM_WORKGROUP / 2}; stride > 0; stride = stride / 2) {
          if (t < stride) {
            partial[t] = partial[t] + partial[t + stride];
          }
          workgroupBarrier();
        }
        if (t == 0) {
          setOutputAtIndex(cell, partial[0]);
        }
      }`;
  }
}

/** [1, h, w, C] gradients and activations → Grad-CAM++'s weights [C] (see reference.ts); one invocation per channel. */
export class GradCamPlusPlusWeightsProgram extends FlatProgram {
  readonly variableNames = ['G', 'A'];
  readonly shaderKey = 'whycamGradCamPlusPlusWeights';
  getUserCode(): string {
    return `
      fn main(k : i32) {
        if (k < uniforms.size) {
          let channels = uniforms.gShape.w;
          let positions = uniforms.gShape.y * uniforms.gShape.z;
          var sumA = 0.0;
          for (var q = 0; q < positions; q++) {
            sumA += A[q * channels + k];
          }
          var w = 0.0;
          for (var q = 0; q < positions; q++) {
            let g = G[q * channels + k];
            if (g > 0.0) {
              let g2 = g * g;
              let denominator = 2.0 * g2 + sumA * g2 * g;
              if (denominator != 0.0) {
                w += g2 / denominator * g;
              }
            }
          }
          setOutputAtIndex(k, w);
        }
      }`;
  }
}

/** [1, N] scores → one-hot of the first highest. Every invocation scans the N scores (N ≈ 1000: cheaper than three dispatches). */
const TOP_WORKGROUP = 256;

/**
 * One workgroup: each invocation scans a strided share of the scores, a tree reduction in
 * workgroup memory finds the highest (the lowest index on ties, like the CPU's first maximum),
 * then the invocations write the one-hot. (One invocation per output scanning all N scores cost
 * N² reads: 0.07–0.18 ms of H100 time per frame for 1000 classes.)
 */
export class TopOneHotProgram extends FlatProgram {
  readonly variableNames = ['Logits'];
  readonly shaderKey = 'whycamTopOneHotReduce';
  override readonly workgroupSize: [number, number, number] = [TOP_WORKGROUP, 1, 1];
  override readonly dispatch: [number, number, number] = [1, 1, 1];
  getUserCode(): string {
    return `
      var<workgroup> bestValues : array<f32, ${TOP_WORKGROUP}>;
      var<workgroup> bestIndices : array<i32, ${TOP_WORKGROUP}>;
      fn main(index : i32) {
        let t = i32(localId.x);
        var best = -1;
        var bestValue = 0.0;
        for (var i = t; i < uniforms.size; i = i + ${TOP_WORKGROUP}) {
          let v = Logits[i];
          if (best < 0 || v > bestValue) {
            best = i;
            bestValue = v;
          }
        }
        bestValues[t] = bestValue;
        bestIndices[t] = best;
        workgroupBarrier();
        for (var stride = ${TOP_WORKGROUP / 2}; stride > 0; stride = stride / 2) {
          if (t < stride) {
            let other = bestIndices[t + stride];
            let otherValue = bestValues[t + stride];
            let mine = bestIndices[t];
            if (other >= 0 && (mine < 0 || otherValue > bestValues[t] || (otherValue == bestValues[t] && other < mine))) {
              bestIndices[t] = other;
              bestValues[t] = otherValue;
            }
          }
          workgroupBarrier();
        }
        let winner = bestIndices[0];
        for (var k = t; k < uniforms.size; k = k + ${TOP_WORKGROUP}) {
          setOutputAtIndex(k, select(0.0, 1.0, k == winner));
        }
      }`;
  }
}

/**
 * A frame → the network input [1, H, W, 3] in one pass: crop, resize (bilinear with half-pixel
 * centres, clamped to the crop, as tf.image.resizeBilinear on the crop; or, along an axis that
 * shrinks by more than 2×, the area average of the covered pixels), scale and offset: the maths
 * of reference.ts's sampleFrame, `taps` source taps per axis (axisTapCount).
 * The frame is [height, width, channels] values, or (packed) [height, width] int32 words each
 * holding one RGBA pixel's four bytes, R lowest: the bytes uploaded as they are.
 */
export class SampleFrameProgram extends FlatProgram {
  readonly variableNames = ['Image'];
  readonly shaderKey: string;
  readonly uniforms =
    'origin : vec2<i32>, regionEnd : vec2<i32>, ratio : vec2<f32>, affine : vec2<f32>, taps : vec2<i32>, imageWidth : i32, channels : i32,';
  constructor(
    outputShape: number[],
    private readonly packed: boolean,
  ) {
    super(outputShape);
    this.shaderKey = `whycamSampleFrameArea_${packed}`;
  }
  getUserCode(): string {
    const pixel = this.packed
      ? 'return f32((Image[row * uniforms.imageWidth + col] >> u32(8 * k)) & 255);'
      : 'return f32(Image[(row * uniforms.imageWidth + col) * uniforms.channels + k]);';
    return `
      fn pixel(row : i32, col : i32, k : i32) -> f32 {
        ${pixel}
      }
      // Tap j of output position p along an axis: (source index in the crop, weight).
      fn axisTap(p : i32, j : i32, ratio : f32, last : i32, taps : i32) -> vec2<f32> {
        if (taps == 2) {
          let f = (f32(p) + 0.5) * ratio - 0.5;
          let lo = max(i32(floor(f)), 0);
          let frac = f - f32(lo);
          if (j == 0) {
            return vec2<f32>(f32(lo), 1.0 - frac);
          }
          return vec2<f32>(f32(min(i32(ceil(f)), last)), frac);
        }
        let lo = f32(p) * ratio;
        let hi = f32(p + 1) * ratio;
        let i = i32(floor(lo)) + j;
        let w = max(0.0, min(hi, f32(i + 1)) - max(lo, f32(i))) / ratio;
        return vec2<f32>(f32(min(i, last)), w);
      }
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let k = coords[3];
          var sum = 0.0;
          for (var a = 0; a < uniforms.taps.y; a++) {
            let ty = axisTap(coords[1], a, uniforms.ratio.y, uniforms.regionEnd.y, uniforms.taps.y);
            if (ty.y == 0.0) {
              continue;
            }
            let row = uniforms.origin.y + i32(ty.x);
            for (var b = 0; b < uniforms.taps.x; b++) {
              let tx = axisTap(coords[2], b, uniforms.ratio.x, uniforms.regionEnd.x, uniforms.taps.x);
              sum += pixel(row, uniforms.origin.x + i32(tx.x), k) * (tx.y * ty.y);
            }
          }
          setOutputAtIndex(index, sum * uniforms.affine.x + uniforms.affine.y);
        }
      }`;
  }
}

export function sampleFrameUniforms(
  region: readonly number[],
  outSize: readonly number[],
  scale: number,
  offset: number,
  imageWidth: number,
  channels: number,
): Uniform[] {
  const [x, y, w, h] = region as [number, number, number, number];
  const [outH, outW] = outSize as [number, number];
  return [
    { type: 'int32', data: [x, y] },
    { type: 'int32', data: [w - 1, h - 1] },
    { type: 'float32', data: [w / outW, h / outH] },
    { type: 'float32', data: [scale, offset] },
    { type: 'int32', data: [axisTapCount(w, outW), axisTapCount(h, outH)] },
    { type: 'int32', data: [imageWidth] },
    { type: 'int32', data: [channels] },
  ];
}
