import * as tf from '@tensorflow/tfjs-core';

/**
 * Tensors derived from a model's weights once (BatchNorm folded into conv kernels, transposed or
 * rotated kernels for the backward pass) and kept for the life of the explainer, so that no frame
 * pays for them and plans for different feature layers share them.
 */
export class WeightStore {
  private readonly entries = new Map<string, tf.Tensor[]>();

  get(key: string, make: () => tf.Tensor[]): tf.Tensor[] {
    let found = this.entries.get(key);
    if (!found) {
      found = tf.tidy(() => make().map((t) => tf.keep(t.clone())));
      this.entries.set(key, found);
    }
    return found;
  }

  dispose(): void {
    for (const list of this.entries.values()) for (const t of list) t.dispose();
    this.entries.clear();
  }
}
