import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * A small MobileNet-like chain exercising every backward rule the engine has: strided conv,
 * BatchNorm folding, depthwise with multiplier 2 and stride 2, zero padding, a valid 3×3 conv
 * with a tanh that cannot be fused, global pooling, dropout and a dense classifier.
 * Weights (BatchNorm statistics included) are random but seeded.
 */
export function buildChainModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [16, 16, 3], name: 'image' });
  let x = tfl.layers
    .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv_a' })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn_a' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu6', name: 'relu_a' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: false, name: 'dw_b' })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn_b' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu6', name: 'relu_b' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 12, kernelSize: 1, useBias: false, name: 'pw_c' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn_c' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: 'relu_c' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: true, name: 'dw_d' })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn_d' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu6', name: 'relu_d' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.zeroPadding2d({ padding: 1, name: 'pad_e' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({ filters: 10, kernelSize: 3, strides: 1, padding: 'valid', activation: 'tanh', name: 'conv_f' })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dropout({ rate: 0.3, name: 'drop' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 5, name: 'logits' }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.activation({ activation: 'softmax', name: 'probs' }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  randomizeWeights(model, 7);
  return model;
}

/** Seeded random weights; BatchNorm variances and gammas kept positive, as trained ones are. */
export function randomizeWeights(model: tfl.LayersModel, seed: number): void {
  const weights = model.weights.map((w, i) =>
    tf.tidy(() => {
      const name = w.originalName;
      const shape = w.shape as number[];
      if (/moving_variance|gamma/.test(name)) return tf.randomUniform(shape, 0.5, 1.5, 'float32', seed + i);
      return tf.randomNormal(shape, 0, name.includes('kernel') ? 0.6 : 0.3, 'float32', seed + i);
    }),
  );
  model.setWeights(weights);
  weights.forEach((t) => t.dispose());
}

/** Runs the layers after `layer` with tfjs-layers itself: an implementation independent of the engine's. */
export function headAfter(model: tfl.LayersModel, layer: string, logitLayer: string): (a: tf.Tensor) => tf.Tensor {
  const names = model.layers.map((l) => l.name);
  const chain = model.layers.slice(names.indexOf(layer) + 1, names.indexOf(logitLayer) + 1);
  return (a) => chain.reduce((t, l) => l.apply(t) as tf.Tensor, a);
}
