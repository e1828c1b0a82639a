import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { COLORMAP_TABLES } from '../../src/explain/render/colormaps.js';

/**
 * Grad-CAM the way most public TF.js code does it, as the benchmarks' baseline: the whole model
 * for the prediction, then two sub-models run again (features, head), the gradient by `tf.grad`
 * through the head, and the heatmap upsampled and coloured pixel by pixel in JavaScript.
 * (The head uses a Dense layer with conv_preds' weights: tf.grad through tfjs-layers' Conv2D needs
 * the filter-gradient kernel, which the WASM backend lacks.)
 */
export class BaselineGradCam {
  private readonly features: tfl.LayersModel;
  private readonly head: tfl.Sequential;

  constructor(
    private readonly model: tfl.LayersModel,
    featureLayer: string,
    classifierLayer: string,
  ) {
    const layer = model.getLayer(featureLayer);
    this.features = tfl.model({ inputs: model.inputs, outputs: layer.getOutputAt(0) as tfl.SymbolicTensor });
    const [, , , channels] = layer.outputShape as number[];
    const [kernel, bias] = model.getLayer(classifierLayer).getWeights();
    this.head = tfl.sequential({
      layers: [
        tfl.layers.globalAveragePooling2d({ inputShape: (layer.outputShape as number[]).slice(1) }),
        tfl.layers.dense({
          units: kernel!.shape[3]!,
          weights: [tf.reshape(kernel!, [channels!, kernel!.shape[3]!]), bias!],
        }),
      ],
    });
  }

  /** One frame: RGBA pixels of `width`×`height` for the overlay, as the naive code draws it. */
  async run(image: tf.Tensor3D, width: number, height: number): Promise<Uint8ClampedArray<ArrayBuffer>> {
    const x = tf.tidy(() =>
      tf.expandDims(tf.sub(tf.div(tf.image.resizeBilinear(tf.cast(image, 'float32'), [224, 224]), 127.5), 1), 0),
    );
    const probs = this.model.predict(x) as tf.Tensor;
    const classIndex = (await tf.argMax(probs, -1).data())[0]!;
    probs.dispose();
    const cam = tf.tidy(() => {
      const a = this.features.predict(x) as tf.Tensor4D;
      const oneHot = tf.oneHot([classIndex], 1000);
      const grads = tf.grad((f) => tf.sum(tf.mul(this.head.apply(f) as tf.Tensor, oneHot)))(a);
      const weights = tf.mean(grads, [0, 1, 2]);
      const map = tf.relu(tf.sum(tf.mul(a, weights), -1));
      return tf.div(map, tf.add(tf.max(map), 1e-8));
    });
    x.dispose();
    const values = await cam.data();
    const [, gh, gw] = cam.shape;
    cam.dispose();
    // Per-pixel bilinear upsampling and colouring on the CPU.
    const out = new Uint8ClampedArray(width * height * 4);
    const jet = COLORMAP_TABLES.jet;
    for (let y = 0; y < height; y++) {
      const v = Math.min(Math.max(((y + 0.5) / height) * gh! - 0.5, 0), gh! - 1);
      const y0 = Math.floor(v);
      const y1 = Math.min(y0 + 1, gh! - 1);
      for (let xx = 0; xx < width; xx++) {
        const u = Math.min(Math.max(((xx + 0.5) / width) * gw! - 0.5, 0), gw! - 1);
        const x0 = Math.floor(u);
        const x1 = Math.min(x0 + 1, gw! - 1);
        const top = values[y0 * gw! + x0]! * (1 - (u - x0)) + values[y0 * gw! + x1]! * (u - x0);
        const bottom = values[y1 * gw! + x0]! * (1 - (u - x0)) + values[y1 * gw! + x1]! * (u - x0);
        const c = Math.round((top * (1 - (v - y0)) + bottom * (v - y0)) * 255) * 3;
        const o = (y * width + xx) * 4;
        out[o] = jet[c]!;
        out[o + 1] = jet[c + 1]!;
        out[o + 2] = jet[c + 2]!;
        out[o + 3] = 128;
      }
    }
    return out;
  }

  /** The feature sub-model shares its layers (and weights) with the model: only the head is ours. */
  dispose(): void {
    this.head.dispose();
  }
}
