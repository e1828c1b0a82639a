/**
 * One frame's device work for a set of requests: a forward pass, the backward passes the requests
 * need (requests that share a class and reduction share one), and everything to read back packed
 * into one tensor: the logits first, then each request's raw map.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Network } from '../network/network.js';
import { topOneHot } from '../runtime/kernels/index.js';
import { cam, gradCam, gradCamPlusPlus, hiResCam, layerCam } from './methods.js';
import type { ResolvedRequest } from './types.js';

/** One-hot targets of pinned classes, uploaded once and kept (constants, not per-frame uploads). */
export class ClassTargets {
  private readonly targets = new Map<number, tf.Tensor2D>();

  constructor(private readonly numClasses: number) {}

  get(classIndex: number): tf.Tensor2D {
    let target = this.targets.get(classIndex);
    if (!target) {
      const values = new Float32Array(this.numClasses);
      values[classIndex] = 1;
      target = tf.keep(tf.tensor2d(values, [1, values.length]));
      this.targets.set(classIndex, target);
    }
    return target;
  }

  dispose(): void {
    for (const t of this.targets.values()) t.dispose();
    this.targets.clear();
  }
}

/**
 * The packed tensor for `resolved` on the network input `x` (the caller reads and disposes it).
 * Nothing runs on the device that the CPU does faster: softmax, top-k and normalisation are done
 * after the read-back.
 */
export function packedPass(
  network: Network,
  x: tf.Tensor4D,
  resolved: readonly ResolvedRequest[],
  classTargets: ClassTargets,
  forwardDone: () => void,
): tf.Tensor {
  const layers = [...new Set(resolved.map((r) => r.layer.name))];
  const plan = network.plan(layers);
  return tf.tidy(() => {
    const values = network.forward(plan, x, layers);
    const logits = tf.reshape(values.get(plan.logits)!, [1, network.numClasses]) as tf.Tensor2D;
    forwardDone();
    const parts: tf.Tensor[] = [tf.reshape(logits, [-1])];
    let probs: tf.Tensor2D | undefined;
    const targets = new Map<string, tf.Tensor2D>();
    const gradients = new Map<string, Map<string, tf.Tensor>>();
    const classSeed = (classIndex: number | null) =>
      classIndex === null ? topOneHot(logits) : classTargets.get(classIndex);
    for (const r of resolved) {
      const targetKey = `${r.classIndex}:${r.contrastClass}`;
      let oneHot = targets.get(targetKey);
      if (!oneHot) {
        oneHot = classSeed(r.classIndex);
        // The contrastive seed: one-hot(A) − one-hot(B), so the backward pass differentiates logit_A − logit_B.
        if (r.contrastClass !== null) oneHot = tf.sub(oneHot, classTargets.get(r.contrastClass)) as tf.Tensor2D;
        targets.set(targetKey, oneHot);
      }
      const activations = values.get(r.layer.name) as tf.Tensor4D;
      let map: tf.Tensor2D;
      if (r.method === 'cam') {
        const classWeights = network.backward(plan, values, oneHot, [network.camPool!]).get(network.camPool!)!;
        map = cam(activations, classWeights);
      } else {
        const gradKey = `${targetKey}:${r.reduction}`;
        let grads = gradients.get(gradKey);
        if (!grads) {
          probs ??= r.reduction === 'softmax' ? tf.softmax(logits) : undefined;
          // d softmax_c / d z = p_c (e_c − p); for a contrast (seed e_A − e_B) the difference of two such terms, d(p_A − p_B)/dz.
          const dSoftmax = (seed: tf.Tensor2D): tf.Tensor => tf.mul(tf.sum(tf.mul(probs!, seed)), tf.sub(seed, probs!));
          const dLogits =
            r.reduction === 'logit'
              ? oneHot
              : r.contrastClass === null
                ? dSoftmax(oneHot)
                : tf.sub(dSoftmax(classSeed(r.classIndex)), dSoftmax(classTargets.get(r.contrastClass)));
          const wanted = resolved
            .filter((q) => q.method !== 'cam' && `${q.classIndex}:${q.contrastClass}:${q.reduction}` === gradKey)
            .map((q) => q.layer.name);
          grads = network.backward(plan, values, dLogits, wanted);
          gradients.set(gradKey, grads);
        }
        const g = grads.get(r.layer.name) as tf.Tensor4D;
        map =
          r.method === 'gradcam'
            ? gradCam(activations, g)
            : r.method === 'gradcam++'
              ? gradCamPlusPlus(activations, g)
              : r.method === 'hirescam'
                ? hiResCam(activations, g)
                : layerCam(activations, g);
      }
      parts.push(tf.reshape(map, [-1]));
    }
    return tf.concat(parts);
  });
}
