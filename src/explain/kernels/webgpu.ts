/**
 * WebGPU programs for WhyCam's kernels, in the shape tfjs-backend-webgpu runs (its
 * `runWebGPUProgram` prepends the bindings, uniforms and index helpers). Typed structurally so
 * that the engine does not import the backend: registering them costs nothing where it is absent.
 */
import type * as tf from '@tensorflow/tfjs-core';

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
export class LayerCamProgram extends FlatProgram {
  readonly variableNames = ['G', 'A'];
  readonly shaderKey = 'whycamLayerCam';
  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let channels = uniforms.gShape.w;
          let base = index * channels;
          var sum = 0.0;
          for (var k = 0; k < channels; k++) {
            sum += max(G[base + k], 0.0) * A[base + k];
          }
          setOutputAtIndex(index, sum);
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
export class TopOneHotProgram extends FlatProgram {
  readonly variableNames = ['Logits'];
  readonly shaderKey = 'whycamTopOneHot';
  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var best = 0;
          var bestValue = Logits[0];
          for (var i = 1; i < uniforms.size; i++) {
            let v = Logits[i];
            if (v > bestValue) {
              best = i;
              bestValue = v;
            }
          }
          setOutputAtIndex(index, select(0.0, 1.0, index == best));
        }
      }`;
  }
}

/**
 * A frame → the network input [1, H, W, 3] in one pass: crop, bilinear resize with half-pixel
 * centres (clamped to the crop, as tf.image.resizeBilinear on the crop), scale and offset.
 * The frame is [height, width, channels] values, or (packed) [height, width] int32 words each
 * holding one RGBA pixel's four bytes, R lowest: the bytes uploaded as they are.
 */
export class SampleFrameProgram extends FlatProgram {
  readonly variableNames = ['Image'];
  readonly shaderKey: string;
  readonly uniforms =
    'origin : vec2<i32>, regionEnd : vec2<i32>, ratio : vec2<f32>, affine : vec2<f32>, imageWidth : i32, channels : i32,';
  constructor(
    outputShape: number[],
    private readonly packed: boolean,
  ) {
    super(outputShape);
    this.shaderKey = `whycamSampleFrame_${packed}`;
  }
  getUserCode(): string {
    const pixel = this.packed
      ? 'return f32((Image[row * uniforms.imageWidth + col] >> u32(8 * k)) & 255);'
      : 'return f32(Image[(row * uniforms.imageWidth + col) * uniforms.channels + k]);';
    return `
      fn pixel(row : i32, col : i32, k : i32) -> f32 {
        ${pixel}
      }
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let f = (vec2<f32>(f32(coords[2]), f32(coords[1])) + 0.5) * uniforms.ratio - 0.5;
          let lo = max(vec2<i32>(floor(f)), vec2<i32>(0));
          let hi = min(vec2<i32>(ceil(f)), uniforms.regionEnd);
          let frac = f - vec2<f32>(lo);
          let a = uniforms.origin + lo;
          let b = uniforms.origin + hi;
          let k = coords[3];
          let tl = pixel(a.y, a.x, k);
          let tr = pixel(a.y, b.x, k);
          let bl = pixel(b.y, a.x, k);
          let br = pixel(b.y, b.x, k);
          let upper = tl + (tr - tl) * frac.x;
          let lower = bl + (br - bl) * frac.x;
          setOutputAtIndex(index, (upper + (lower - upper) * frac.y) * uniforms.affine.x + uniforms.affine.y);
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
    { type: 'int32', data: [imageWidth] },
    { type: 'int32', data: [channels] },
  ];
}
