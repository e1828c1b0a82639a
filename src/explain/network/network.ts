import * as tf from '@tensorflow/tfjs-core';
import { WhyCamError } from '../errors.js';
import { ancestors, cutPoints, type GraphNode, type ModelGraph } from './graph.js';
import { canBackpropagate, isAffine, isShapeOnly } from './op-table.js';
import { buildPlan, type Plan } from './plan.js';
import { WeightStore } from './weights.js';

/** A layer whose output can serve as the feature map of CAM / Grad-CAM. */
export interface FeatureLayer {
  name: string;
  height: number;
  width: number;
  channels: number;
}

interface HeadHints {
  /** The layer giving pre-softmax scores, if known (checked against the model). */
  logitLayer?: string;
  softmaxLayer?: string;
}

/**
 * A model's neutral graph seen as an explainable classifier: where the logits are, where it can be
 * cut, and the machinery to run it forward and back-propagate from the logits using forward ops only.
 */
export class Network {
  readonly logits: string;
  readonly softmax: string | null;
  readonly numClasses: number;
  /** Candidate feature layers, input side first; the last one is the default. */
  readonly featureLayers: readonly FeatureLayer[];
  /** The layer CAM is defined at (the input of global average pooling), if the head allows CAM. */
  readonly camLayer: string | null;
  /** The pooled vector whose gradient is the target class's classifier weights. */
  readonly camPool: string | null;
  /** Why CAM is not defined for this network (null when it is). */
  readonly camUnavailable: string | null;
  private readonly relevant: Set<string>;
  private readonly rejected = new Map<string, string>();
  private readonly weights = new WeightStore();
  private readonly plans = new Map<string, Plan>();

  constructor(
    readonly graph: ModelGraph,
    hints: HeadHints = {},
  ) {
    const head = findHead(this.graph, hints);
    this.logits = head.logits;
    this.softmax = head.softmax;
    const logitShape = this.graph.byName.get(this.logits)!.shape;
    this.numClasses = logitShape[logitShape.length - 1]!;
    if (logitShape.slice(0, -1).some((d) => d !== 1)) {
      throw new WhyCamError(
        'unsupported-model',
        `Layer "${this.logits}" gives scores of shape [${logitShape.join(', ')}], not one score per class.`,
      );
    }
    this.relevant = ancestors(this.graph, this.logits);
    this.featureLayers = this.findFeatureLayers();
    if (this.featureLayers.length === 0) {
      throw new WhyCamError(
        'unsupported-model',
        'The model has no layer with a spatial feature map (height and width > 1) that WhyCam can explain from.',
      );
    }
    const cam = this.findCamLayer();
    this.camLayer = 'layer' in cam ? cam.layer : null;
    this.camPool = 'pool' in cam ? cam.pool : null;
    this.camUnavailable = 'reason' in cam ? cam.reason : null;
  }

  get lastConvLayer(): FeatureLayer {
    return this.featureLayers[this.featureLayers.length - 1]!;
  }

  /** A feature layer by name (`auto` or nothing: the default), or an error listing the valid names. */
  layer(name?: string): FeatureLayer {
    if (name === undefined || name === 'auto' || name === '') return this.lastConvLayer;
    const found = this.featureLayers.find((l) => l.name === name);
    if (found) return found;
    const valid = `Valid feature layers: auto (= ${this.lastConvLayer.name}), ${this.featureLayers.map((l) => `${l.name} (${l.height}×${l.width})`).join(', ')}.`;
    if (!this.graph.byName.has(name)) {
      throw new WhyCamError('unknown-layer', `The model has no layer named "${name}".`, valid);
    }
    throw new WhyCamError(
      'layer-not-cuttable',
      `Layer "${name}" cannot serve as a feature layer: ${this.rejected.get(name) ?? 'it is not between the input and the logits'}.`,
      valid,
    );
  }

  /** A plan where each of `exposed` is available as its own output. */
  plan(exposed: readonly string[]): Plan {
    const key = [...new Set(exposed)].sort().join('|');
    let plan = this.plans.get(key);
    if (!plan) {
      plan = buildPlan(this.graph, this.logits, new Set(exposed), this.weights, this.relevant);
      this.plans.set(key, plan);
    }
    return plan;
  }

  /**
   * Runs the plan on a preprocessed batch. Returns the logits and every output at or after the
   * earliest of `keepFrom` (what the backward pass needs); other intermediates are freed early.
   */
  forward(plan: Plan, x: tf.Tensor4D, keepFrom: readonly string[]): Map<string, tf.Tensor> {
    const keepIndex = Math.min(plan.index.get(plan.logits)!, ...keepFrom.map((n) => plan.index.get(n)!));
    const values = new Map<string, tf.Tensor>([[plan.input, x]]);
    plan.steps.forEach((step, i) => {
      if (step.inputs.length === 0) return;
      values.set(step.name, step.forward(step.inputs.map((n) => values.get(n)!)));
      for (const input of step.inputs) {
        if (plan.lastUse.get(input) === i && input !== plan.input && plan.index.get(input)! < keepIndex) {
          values.get(input)!.dispose();
          values.delete(input);
        }
      }
    });
    return values;
  }

  /**
   * Back-propagates dLogits (shaped like the logits) to each of `targets`, computing each
   * gradient once even when several targets lie on the way.
   */
  backward(
    plan: Plan,
    values: Map<string, tf.Tensor>,
    dLogits: tf.Tensor,
    targets: readonly string[],
  ): Map<string, tf.Tensor> {
    const stop = Math.min(...targets.map((n) => plan.index.get(n)!));
    const grads = new Map<string, tf.Tensor>([
      [plan.logits, tf.reshape(dLogits, plan.steps[plan.index.get(plan.logits)!]!.shape as number[])],
    ]);
    for (let i = plan.index.get(plan.logits)!; i > stop; i--) {
      const step = plan.steps[i]!;
      const dy = grads.get(step.name);
      if (!dy) continue;
      if (!step.backward) throw new Error(`internal: no backward for ${step.name}`);
      const dxs = step.backward(
        dy,
        values.get(step.name)!,
        step.inputs.map((n) => values.get(n)!),
      );
      step.inputs.forEach((input, j) => {
        const prev = grads.get(input);
        grads.set(input, prev ? tf.add(prev, dxs[j]!) : dxs[j]!);
      });
    }
    return new Map(
      targets.map((t) => [t, grads.get(t) ?? tf.zeros(plan.steps[plan.index.get(t)!]!.shape as number[])]),
    );
  }

  dispose(): void {
    this.weights.dispose();
    this.plans.clear();
    this.graph.dispose();
  }

  private findFeatureLayers(): FeatureLayer[] {
    const cuts = cutPoints(this.graph, this.logits);
    const chain = this.graph.nodes.filter((n) => this.relevant.has(n.name));
    // Walking back from the logits, a layer qualifies only while everything after it can be differentiated.
    let blocker: GraphNode | undefined;
    const layers: FeatureLayer[] = [];
    for (let i = chain.length - 1; i >= 0; i--) {
      const node = chain[i]!;
      const [, h, w, c] = node.shape;
      if (node.inputs.length === 0 || node.op.type === 'normalize')
        this.rejected.set(node.name, 'it is the input image itself');
      else if (node.shape.length !== 4 || h! <= 1 || w! <= 1)
        this.rejected.set(node.name, `its output [${node.shape.join(', ')}] has no spatial map (height and width > 1)`);
      else if (!cuts.has(node.name))
        this.rejected.set(node.name, 'it sits inside a branch, and the network cannot be cut there');
      else if (blocker)
        this.rejected.set(
          node.name,
          `the layer after it, "${blocker.name}" (${blocker.sourceType}), cannot be back-propagated through`,
        );
      else layers.unshift({ name: node.name, height: h!, width: w!, channels: c! });
      if (!blocker && !canBackpropagate(node) && node.inputs.length > 0) blocker = node;
    }
    for (const node of this.graph.nodes) {
      if (!this.relevant.has(node.name)) this.rejected.set(node.name, `it comes after the logits ("${this.logits}")`);
    }
    return layers;
  }

  private findCamLayer(): { layer: string; pool: string } | { reason: string } {
    const pool = this.graph.nodes.find((n) => n.op.type === 'globalAvgPool' && this.relevant.has(n.name));
    if (!pool) return { reason: 'CAM needs global average pooling before the classifier; this network has none.' };
    const layer = pool.inputs[0]!;
    if (!this.featureLayers.some((l) => l.name === layer)) {
      return {
        reason: `CAM needs the map global average pooling reads ("${layer}") to be a feature layer: ${this.rejected.get(layer) ?? 'it is not'}.`,
      };
    }
    const after = this.graph.nodes.slice(this.graph.nodes.indexOf(pool) + 1).filter((n) => this.relevant.has(n.name));
    const nonlinear = after.find((n) => !isAffine(n));
    if (nonlinear) {
      const act = 'activation' in nonlinear.op ? nonlinear.op.activation : undefined;
      return {
        reason: `CAM needs a linear classifier after global average pooling; here ${nonlinear.sourceType} "${nonlinear.name}"${act ? ` (${act})` : ''} follows it, which is not linear.`,
      };
    }
    return { layer, pool: pool.name };
  }
}

/**
 * Finds the logits: the input of the model's softmax (skipping reshapes at the end), or the output
 * itself if there is no softmax. (Importers split a layer with a softmax activation in two.)
 */
function findHead(graph: ModelGraph, hints: HeadHints): { logits: string; softmax: string | null } {
  let node = graph.byName.get(graph.output)!;
  while (isShapeOnly(node) && node.inputs.length === 1) node = graph.byName.get(node.inputs[0]!)!;
  let found: { logits: string; softmax: string | null };
  if (node.op.type === 'softmax') {
    found = { logits: node.inputs[0]!, softmax: node.name };
  } else {
    found = { logits: graph.output, softmax: null };
  }
  if (hints.logitLayer && hints.logitLayer !== found.logits) {
    throw new WhyCamError(
      'unsupported-model',
      `Expected the logits at layer "${hints.logitLayer}", but the model's scores come from "${found.logits}".`,
      'The model files do not match the registry entry; run `npm run models` to fetch them again.',
    );
  }
  if (hints.softmaxLayer && found.softmax && hints.softmaxLayer !== found.softmax) {
    throw new WhyCamError(
      'unsupported-model',
      `Expected the softmax at layer "${hints.softmaxLayer}", found "${found.softmax}".`,
    );
  }
  return found;
}
