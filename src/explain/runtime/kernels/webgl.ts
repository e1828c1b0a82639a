/**
 * WebGL programs for WhyCam's kernels, in the shape tfjs-backend-webgl runs (`runWebGLProgram`
 * adds the samplers `getX(...)` / `getXAtOutCoords()` and `setOutput`). Typed structurally, like
 * the WebGPU ones, so that nothing here imports the backend.
 */
import type * as tf from '@tensorflow/tfjs-core';

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

export function layerCamProgram(height: number, width: number, channels: number): object {
  return {
    variableNames: ['G', 'A'],
    outputShape: [height, width],
    userCode: `
      void main() {
        ivec2 rc = getOutputCoords();
        float sum = 0.0;
        for (int k = 0; k < ${channels}; k++) {
          sum += max(getG(0, rc.x, rc.y, k), 0.0) * getA(0, rc.x, rc.y, k);
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

/** See SampleFrameProgram (WebGPU): the same sampling, from a [height, width, channels] frame. */
export function sampleFrameProgram(outputShape: number[]): object {
  return {
    variableNames: ['Image'],
    outputShape,
    customUniforms: [
      { name: 'origin', type: 'ivec2' },
      { name: 'regionEnd', type: 'ivec2' },
      { name: 'ratio', type: 'vec2' },
      { name: 'affine', type: 'vec2' },
    ],
    userCode: `
      void main() {
        ivec4 coords = getOutputCoords();
        vec2 f = (vec2(float(coords.z), float(coords.y)) + 0.5) * ratio - 0.5;
        ivec2 lo = max(ivec2(floor(f)), ivec2(0));
        ivec2 hi = min(ivec2(ceil(f)), regionEnd);
        vec2 frac = f - vec2(lo);
        ivec2 a = origin + lo;
        ivec2 b = origin + hi;
        int k = coords.w;
        float tl = getImage(a.y, a.x, k);
        float tr = getImage(a.y, b.x, k);
        float bl = getImage(b.y, a.x, k);
        float br = getImage(b.y, b.x, k);
        float upper = tl + (tr - tl) * frac.x;
        float lower = bl + (br - bl) * frac.x;
        setOutput((upper + (lower - upper) * frac.y) * affine.x + affine.y);
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
  ];
}
