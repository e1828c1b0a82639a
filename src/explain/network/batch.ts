import * as tf from '@tensorflow/tfjs-core';
import type { OpType } from './graph.js';
import type { Network } from './network.js';

/** Steps that reshape to the plan's batch-1 shapes. */
const PER_IMAGE = new Set<OpType>(['reshape', 'flatten', 'globalAvgPool', 'dense']);

/**
 * Softmax probabilities for a batch of preprocessed inputs [n, H, W, C] through the compiled plan
 * (BatchNorm folded, activations fused): on WASM several times faster per input than the
 * LayersModel's own `predict`, which runs every BatchNorm and activation as its own kernel.
 *
 * Plan steps are built for one image: the spatial steps (convolutions, BatchNorm, activations,
 * padding, additions: rank-4 in and out) are batch-agnostic and run on the whole batch; the head
 * (pooling, reshapes, the classifier), whose steps reshape to batch-1 shapes, runs per image, where
 * it costs next to nothing. The caller owns the result.
 */
export function batchProbabilities(network: Network, batch: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(batchLogits(network, batch)));
}

/** The logits [n, classes] for a batch of preprocessed inputs; see `batchProbabilities`. */
function batchLogits(network: Network, batch: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const plan = network.plan([]);
    const n = batch.shape[0];
    const pendingUses = new Map<string, number>();
    for (const step of plan.steps)
      for (const input of step.inputs) pendingUses.set(input, (pendingUses.get(input) ?? 0) + 1);
    // A value is either one batched tensor or, once the head is reached, one tensor per image.
    const batched = new Map<string, tf.Tensor>([[plan.input, batch]]);
    const split = new Map<string, tf.Tensor[]>();
    const perImage = (name: string): tf.Tensor[] => {
      let parts = split.get(name);
      if (!parts) {
        const whole = batched.get(name)!;
        parts = tf.split(whole, n, 0);
        split.set(name, parts);
      }
      return parts;
    };
    for (const step of plan.steps) {
      if (step.inputs.length === 0) continue;
      const kind = network.graph.byName.get(step.covers[0]!)?.op.type;
      const spatial =
        step.shape.length === 4 &&
        kind !== undefined &&
        !PER_IMAGE.has(kind) &&
        step.inputs.every((i) => batched.get(i)?.rank === 4);
      if (spatial) {
        batched.set(step.name, step.forward(step.inputs.map((i) => batched.get(i)!)));
      } else {
        const inputs = step.inputs.map(perImage);
        split.set(
          step.name,
          Array.from({ length: n }, (_, s) => step.forward(inputs.map((parts) => parts[s]!))),
        );
      }
      for (const input of step.inputs) {
        const left = pendingUses.get(input)! - 1;
        pendingUses.set(input, left);
        if (left === 0 && input !== plan.input) {
          batched.get(input)?.dispose();
          for (const t of split.get(input) ?? []) t.dispose();
          batched.delete(input);
          split.delete(input);
        }
      }
    }
    const logits = split.has(plan.logits) ? tf.concat(split.get(plan.logits)!, 0) : batched.get(plan.logits)!;
    return tf.reshape(logits, [n, network.numClasses]) as tf.Tensor2D;
  });
}
