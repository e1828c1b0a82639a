/** A step of the plan and what a layer kind builds it from: types only, shared by the plan, the layer table and the ops. */
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from './graph.js';
import type { WeightStore } from './weights.js';

/**
 * One executable unit of the network: a Keras layer, or a conv / dense layer with the BatchNorm
 * and activation after it folded in. Its output is the output of the last layer it covers.
 */
export interface Step {
  readonly name: string;
  readonly covers: readonly string[];
  readonly inputs: readonly string[];
  readonly shape: readonly number[];
  forward(inputs: tf.Tensor[]): tf.Tensor;
  /**
   * dL/d(each input) from dL/d(output) and the output itself, built from forward ops only
   * (gradient kernels are slow or missing on some backends). Absent when not differentiable.
   */
  backward?(dy: tf.Tensor, y: tf.Tensor, xs: tf.Tensor[]): tf.Tensor[];
}

export type StepBase = Pick<Step, 'name' | 'covers' | 'inputs' | 'shape'>;

/** What a layer kind builds its ops from. */
export interface StepContext {
  /** The head node first, then the layers fused after it. */
  group: readonly GraphNode[];
  base: StepBase;
  inputShape(i?: number): number[];
  logits: string;
  weights: WeightStore;
}

export interface StepOps {
  forward(inputs: tf.Tensor[]): tf.Tensor;
  /**
   * dL/d(each input) from dL/d(output), the output itself and the step's inputs `xs` (read by
   * max pooling, LRN and swish), built from forward ops only.
   */
  backward(dy: tf.Tensor, y: tf.Tensor, xs: tf.Tensor[]): tf.Tensor[];
}
