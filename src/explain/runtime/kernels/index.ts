/**
 * WhyCam's own tfjs kernels: work that tfjs would spread over several kernels (each with its own
 * per-dispatch cost, which dominates a GPU frame), done in one. Each is registered for webgpu and
 * webgl (shader programs) and for wasm and cpu (the same maths in JavaScript, reference.ts).
 * Registration needs no backend to be loaded; importing this module registers them once.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  axisTapCount,
  type FrameSampling,
  gradCamPlusPlusWeights as gradCamPlusPlusWeightsJs,
  layerCamReduce,
  relu6Backward as relu6BackwardJs,
  sampleFrame as sampleFrameJs,
  topOneHot as topOneHotJs,
} from './reference.js';
import * as webgl from './webgl.js';
import * as webgpu from './webgpu.js';

export type { FrameSampling } from './reference.js';
export { sampleFrame as sampleFrameOnCpu } from './reference.js';

const RELU6_BACKWARD = 'WhyCamRelu6Backward';
const LAYER_CAM = 'WhyCamLayerCam';
const SAMPLE_FRAME = 'WhyCamSampleFrame';
const TOP_ONE_HOT = 'WhyCamTopOneHot';
const GRAD_CAM_PP_WEIGHTS = 'WhyCamGradCamPlusPlusWeights';

/** dL/dz through y = relu6(z), from dL/dy and y: one kernel instead of Greater, Less, LogicalAnd, Cast, Mul. */
export function relu6Backward(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(RELU6_BACKWARD, { dy, y }) as tf.Tensor;
}

/**
 * LayerCAM's map from [1, h, w, C] gradients and activations: Σ_k relu(g) · a, as [h, w]; with
 * `rectify` false, HiResCAM's Σ_k g · a (the same kernel without the ReLU on g).
 */
export function layerCamMap(gradients: tf.Tensor4D, activations: tf.Tensor4D, rectify = true): tf.Tensor2D {
  return tf.engine().runKernel(LAYER_CAM, { gradients, activations }, { rectify }) as tf.Tensor2D;
}

/** Grad-CAM++'s channel weights [C] from [1, h, w, C] gradients and activations: one kernel instead of a dozen. */
export function gradCamPlusPlusWeights(gradients: tf.Tensor4D, activations: tf.Tensor4D): tf.Tensor1D {
  return tf.engine().runKernel(GRAD_CAM_PP_WEIGHTS, { gradients, activations }) as tf.Tensor1D;
}

/** [1, N] scores → [1, N] float32 one-hot of the highest (the first, on ties): one kernel for ArgMax, OneHot and Cast. */
export function topOneHot(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.engine().runKernel(TOP_ONE_HOT, { logits }) as tf.Tensor2D;
}

/**
 * The network input [1, H, W, 3] from a frame on the device, cropped, resized (bilinear, or
 * area-averaged along an axis that shrinks by more than 2×) and scaled in one kernel. `image` is [height, width, 3 or 4] (int32 or float32, values 0..255), or `packed`:
 * [height, width] int32 words holding RGBA bytes (R lowest), i.e. the RGBA buffer as it is.
 */
export function sampleFrame(image: tf.Tensor, sampling: FrameSampling, packed = false): tf.Tensor4D {
  const attrs = {
    region: [...sampling.region],
    outSize: [...sampling.outSize],
    scale: sampling.scale,
    offset: sampling.offset,
    packed,
  };
  return tf.engine().runKernel(SAMPLE_FRAME, { image }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

interface SampleAttrs {
  region: number[];
  outSize: number[];
  scale: number;
  offset: number;
  packed: boolean;
}

/** What the cpu and wasm backends offer for reading and making tensors (structural: no backend import). */
interface CpuBackendLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  /** cpu only. */
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
  /** wasm only: a view of the tensor in the module's memory, without the copy readSync makes. */
  typedArrayFromHeap?(info: tf.TensorInfo): tf.TypedArray;
  /** (wasm's) a new tensor in the module's memory, holding a copy of `values`. */
  makeOutput?(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset: undefined,
    values: tf.backend_util.BackendValues,
  ): tf.TensorInfo;
}

function values(backend: CpuBackendLike, info: tf.TensorInfo): tf.TypedArray {
  return (
    backend.typedArrayFromHeap ? backend.typedArrayFromHeap(info) : backend.readSync(info.dataId)
  ) as tf.TypedArray;
}

function output(backend: CpuBackendLike, shape: number[], data: Float32Array): tf.TensorInfo {
  // The cpu backend has a makeOutput too, with other arguments: tell the two apart by the wasm heap.
  return backend.typedArrayFromHeap
    ? backend.makeOutput!(shape, 'float32', undefined, data)
    : backend.makeTensorInfo!(shape, 'float32', data);
}

/** The frame's pixels as values per channel: a packed frame's words are its RGBA bytes. */
function framePixels(
  backend: CpuBackendLike,
  image: tf.TensorInfo,
  packed: boolean,
): { pixels: ArrayLike<number>; channels: number } {
  const data = values(backend, image);
  if (!packed) return { pixels: data, channels: image.shape[2]! };
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length * 4), channels: 4 };
}

function register(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc): void {
  if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc });
}

for (const backendName of ['cpu', 'wasm']) {
  register(RELU6_BACKWARD, backendName, ({ inputs, backend }) => {
    const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
    const b = backend as unknown as CpuBackendLike;
    return output(b, [...dy.shape], relu6BackwardJs(values(b, dy), values(b, y)));
  });
  register(LAYER_CAM, backendName, ({ inputs, backend, attrs }) => {
    const { gradients, activations } = inputs as { gradients: tf.TensorInfo; activations: tf.TensorInfo };
    const b = backend as unknown as CpuBackendLike;
    const [, h, w, c] = gradients.shape as [number, number, number, number];
    const rectify = attrs?.['rectify'] !== false;
    return output(b, [h, w], layerCamReduce(values(b, gradients), values(b, activations), c, rectify));
  });
  register(GRAD_CAM_PP_WEIGHTS, backendName, ({ inputs, backend }) => {
    const { gradients, activations } = inputs as { gradients: tf.TensorInfo; activations: tf.TensorInfo };
    const b = backend as unknown as CpuBackendLike;
    const c = gradients.shape[3]!;
    return output(b, [c], gradCamPlusPlusWeightsJs(values(b, gradients), values(b, activations), c));
  });
  register(TOP_ONE_HOT, backendName, ({ inputs, backend }) => {
    const { logits } = inputs as { logits: tf.TensorInfo };
    const b = backend as unknown as CpuBackendLike;
    return output(b, [...logits.shape], topOneHotJs(values(b, logits)));
  });
  register(SAMPLE_FRAME, backendName, ({ inputs, backend, attrs }) => {
    const { image } = inputs as { image: tf.TensorInfo };
    const a = attrs as unknown as SampleAttrs;
    const b = backend as unknown as CpuBackendLike;
    const { pixels, channels } = framePixels(b, image, a.packed);
    const sampling: FrameSampling = {
      region: a.region as [number, number, number, number],
      outSize: a.outSize as [number, number],
      scale: a.scale,
      offset: a.offset,
    };
    return output(b, [1, a.outSize[0]!, a.outSize[1]!, 3], sampleFrameJs(pixels, image.shape[1]!, channels, sampling));
  });
}

register(RELU6_BACKWARD, 'webgpu', ({ inputs, backend }) => {
  const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  return (backend as unknown as webgpu.WebGpuBackendLike).runWebGPUProgram(
    new webgpu.Relu6BackwardProgram([...dy.shape]),
    [dy, y],
    'float32',
  );
});
register(LAYER_CAM, 'webgpu', ({ inputs, backend, attrs }) => {
  const { gradients, activations } = inputs as { gradients: tf.TensorInfo; activations: tf.TensorInfo };
  const [, h, w] = gradients.shape as [number, number, number, number];
  return (backend as unknown as webgpu.WebGpuBackendLike).runWebGPUProgram(
    new webgpu.LayerCamProgram([h, w], attrs?.['rectify'] !== false),
    [gradients, activations],
    'float32',
  );
});
register(GRAD_CAM_PP_WEIGHTS, 'webgpu', ({ inputs, backend }) => {
  const { gradients, activations } = inputs as { gradients: tf.TensorInfo; activations: tf.TensorInfo };
  return (backend as unknown as webgpu.WebGpuBackendLike).runWebGPUProgram(
    new webgpu.GradCamPlusPlusWeightsProgram([gradients.shape[3]!]),
    [gradients, activations],
    'float32',
  );
});
register(TOP_ONE_HOT, 'webgpu', ({ inputs, backend }) => {
  const { logits } = inputs as { logits: tf.TensorInfo };
  return (backend as unknown as webgpu.WebGpuBackendLike).runWebGPUProgram(
    new webgpu.TopOneHotProgram([...logits.shape]),
    [logits],
    'float32',
  );
});
register(SAMPLE_FRAME, 'webgpu', ({ inputs, backend, attrs }) => {
  const { image } = inputs as { image: tf.TensorInfo };
  const a = attrs as unknown as SampleAttrs;
  const program = new webgpu.SampleFrameProgram([1, a.outSize[0]!, a.outSize[1]!, 3], a.packed);
  const uniforms = webgpu.sampleFrameUniforms(
    a.region,
    a.outSize,
    a.scale,
    a.offset,
    image.shape[1]!,
    a.packed ? 1 : image.shape[2]!,
  );
  return (backend as unknown as webgpu.WebGpuBackendLike).runWebGPUProgram(program, [image], 'float32', uniforms);
});

register(RELU6_BACKWARD, 'webgl', ({ inputs, backend }) => {
  const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  return (backend as unknown as webgl.WebGlBackendLike).runWebGLProgram(
    webgl.relu6BackwardProgram([...dy.shape]),
    [dy, y],
    'float32',
  );
});
register(LAYER_CAM, 'webgl', ({ inputs, backend, attrs }) => {
  const { gradients, activations } = inputs as { gradients: tf.TensorInfo; activations: tf.TensorInfo };
  const [, h, w, c] = gradients.shape as [number, number, number, number];
  return (backend as unknown as webgl.WebGlBackendLike).runWebGLProgram(
    webgl.layerCamProgram(h, w, c, attrs?.['rectify'] !== false),
    [gradients, activations],
    'float32',
  );
});
register(GRAD_CAM_PP_WEIGHTS, 'webgl', ({ inputs, backend }) => {
  const { gradients, activations } = inputs as { gradients: tf.TensorInfo; activations: tf.TensorInfo };
  const [, h, w, c] = gradients.shape as [number, number, number, number];
  return (backend as unknown as webgl.WebGlBackendLike).runWebGLProgram(
    webgl.gradCamPlusPlusWeightsProgram(h, w, c),
    [gradients, activations],
    'float32',
  );
});
register(TOP_ONE_HOT, 'webgl', ({ inputs, backend }) => {
  const { logits } = inputs as { logits: tf.TensorInfo };
  return (backend as unknown as webgl.WebGlBackendLike).runWebGLProgram(
    webgl.topOneHotProgram(logits.shape[1]!),
    [logits],
    'float32',
  );
});
register(SAMPLE_FRAME, 'webgl', ({ inputs, backend, attrs }) => {
  const { image } = inputs as { image: tf.TensorInfo };
  const a = attrs as unknown as SampleAttrs;
  if (a.packed)
    throw new Error('internal: WebGL textures hold no packed RGBA words; upload the frame with tf.browser.fromPixels');
  const [, , w, h] = a.region as [number, number, number, number];
  const taps = [axisTapCount(w, a.outSize[1]!), axisTapCount(h, a.outSize[0]!)] as const;
  const program = webgl.sampleFrameProgram([1, a.outSize[0]!, a.outSize[1]!, 3], taps);
  return (backend as unknown as webgl.WebGlBackendLike).runWebGLProgram(
    program,
    [image],
    'float32',
    webgl.sampleFrameUniforms(a.region, a.outSize, a.scale, a.offset),
  );
});
