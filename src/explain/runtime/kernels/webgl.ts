/**
 * WebGL programs for WhyCam's kernels, in the shape tfjs-backend-webgl runs (`runWebGLProgram`
 * adds the samplers `getX(...)` / `getXAtOutCoords()` and `setOutput`). Typed structurally, like
 * the WebGPU ones, so that nothing here imports the backend.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { axisTapCount } from './reference.js';

export interface WebGlBackendLike {
  runWebGLProgram(
    program: object,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    customUniformValues?: number[][],
  ): tf.TensorInfo;
}

/** Works on packed textures (what convolutions produce), so no unpacking pass runs first. */
export function relu6BackwardProgram(shape: number[]): object {
  return {
    variableNames: ['Dy', 'Y'],
    outputShape: shape,
    packedInputs: true,
    packedOutput: true,
    userCode: `
      void main() {
        vec4 y = getYAtOutCoords();
        vec4 pass = vec4(greaterThan(y, vec4(0.0))) * vec4(lessThan(y, vec4(6.0)));
        setOutput(getDyAtOutCoords() * pass);
      }`,
  };
}

/** LayerCAM's Σ_k relu(g) · a, or with `rectify` false HiResCAM's Σ_k g · a. */
export function layerCamProgram(height: number, width: number, channels: number, rectify = true): object {
  return {
    variableNames: ['G', 'A'],
    outputShape: [height, width],
    userCode: `
      void main() {
        ivec2 rc = getOutputCoords();
        float sum = 0.0;
        for (int k = 0; k < ${channels}; k++) {
          float g = getG(0, rc.x, rc.y, k);
          sum += ${rectify ? 'max(g, 0.0)' : 'g'} * getA(0, rc.x, rc.y, k);
        }
        setOutput(sum);
      }`,
  };
}

/** See GradCamPlusPlusWeightsProgram (WebGPU). */
export function gradCamPlusPlusWeightsProgram(height: number, width: number, channels: number): object {
  return {
    variableNames: ['G', 'A'],
    outputShape: [channels],
    userCode: `
      void main() {
        int k = getOutputCoords();
        float sumA = 0.0;
        for (int y = 0; y < ${height}; y++) {
          for (int x = 0; x < ${width}; x++) {
            sumA += getA(0, y, x, k);
          }
        }
        float w = 0.0;
        for (int y = 0; y < ${height}; y++) {
          for (int x = 0; x < ${width}; x++) {
            float g = getG(0, y, x, k);
            if (g > 0.0) {
              float g2 = g * g;
              float denominator = 2.0 * g2 + sumA * g2 * g;
              if (denominator != 0.0) {
                w += g2 / denominator * g;
              }
            }
          }
        }
        setOutput(w);
      }`,
  };
}

/** See TopOneHotProgram (WebGPU). */
export function topOneHotProgram(n: number): object {
  return {
    variableNames: ['Logits'],
    outputShape: [1, n],
    userCode: `
      void main() {
        int index = getOutputCoords().y;
        int best = 0;
        float bestValue = getLogits(0, 0);
        for (int i = 1; i < ${n}; i++) {
          float v = getLogits(0, i);
          if (v > bestValue) {
            best = i;
            bestValue = v;
          }
        }
        setOutput(index == best ? 1.0 : 0.0);
      }`,
  };
}

/** Loop bounds must be constants in GLSL: the taps per axis, rounded up to a power of two (few programs to compile). */
function tapBound(taps: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(2, taps)));
}

/**
 * See SampleFrameProgram (WebGPU): the same sampling, from a [height, width, channels] frame,
 * with `taps` = [x, y] source taps per axis (axisTapCount).
 */
export function sampleFrameProgram(outputShape: number[], taps: readonly [number, number]): object {
  return {
    variableNames: ['Image'],
    outputShape,
    customUniforms: [
      { name: 'origin', type: 'ivec2' },
      { name: 'regionEnd', type: 'ivec2' },
      { name: 'ratio', type: 'vec2' },
      { name: 'affine', type: 'vec2' },
      { name: 'taps', type: 'ivec2' },
    ],
    userCode: `
      // Tap j of output position p along an axis: (source index in the crop, weight).
      vec2 axisTap(int p, int j, float ratio, int last, int count) {
        if (count == 2) {
          float f = (float(p) + 0.5) * ratio - 0.5;
          int lo = max(int(floor(f)), 0);
          float frac = f - float(lo);
          if (j == 0) {
            return vec2(float(lo), 1.0 - frac);
          }
          return vec2(float(min(int(ceil(f)), last)), frac);
        }
        float lo = float(p) * ratio;
        float hi = float(p + 1) * ratio;
        int i = int(floor(lo)) + j;
        float w = max(0.0, min(hi, float(i + 1)) - max(lo, float(i))) / ratio;
        return vec2(float(min(i, last)), w);
      }
      void main() {
        ivec4 coords = getOutputCoords();
        int k = coords.w;
        float sum = 0.0;
        for (int a = 0; a < ${tapBound(taps[1])}; a++) {
          if (a >= taps.y) {
            break;
          }
          vec2 ty = axisTap(coords.y, a, ratio.y, regionEnd.y, taps.y);
          int row = origin.y + int(ty.x);
          for (int b = 0; b < ${tapBound(taps[0])}; b++) {
            if (b >= taps.x) {
              break;
            }
            vec2 tx = axisTap(coords.z, b, ratio.x, regionEnd.x, taps.x);
            sum += getImage(row, origin.x + int(tx.x), k) * (tx.y * ty.y);
          }
        }
        setOutput(sum * affine.x + affine.y);
      }`,
  };
}

export function sampleFrameUniforms(
  region: readonly number[],
  outSize: readonly number[],
  scale: number,
  offset: number,
): number[][] {
  const [x, y, w, h] = region as [number, number, number, number];
  const [outH, outW] = outSize as [number, number];
  return [
    [x, y],
    [w - 1, h - 1],
    [w / outW, h / outH],
    [scale, offset],
    [axisTapCount(w, outW), axisTapCount(h, outH)],
  ];
}
