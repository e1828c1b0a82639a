import type { GraphNode, ModelGraph } from './graph.js';
import { identityForward } from './backward-ops.js';
import { canBackpropagate, foldableActivation, fusesAfter, hasOwnOps, stepOps } from './op-table.js';
import type { Step, StepBase } from './step.js';
import type { WeightStore } from './weights.js';

/** The network from its input up to the logits, as steps in topological order. */
export interface Plan {
  readonly steps: readonly Step[];
  readonly index: ReadonlyMap<string, number>;
  readonly input: string;
  readonly logits: string;
  /** Output name → the index of the last step that reads it: where the forward pass may free it. */
  readonly lastUse: ReadonlyMap<string, number>;
}

/**
 * Turns the graph into steps, fusing conv → BatchNorm → activation where no exposed layer sits
 * in between. `exposed` names layers whose own output must be available (feature layers).
 */
export function buildPlan(
  graph: ModelGraph,
  logits: string,
  exposed: ReadonlySet<string>,
  weights: WeightStore,
  relevant: ReadonlySet<string>,
): Plan {
  const steps: Step[] = [];
  const absorbed = new Set<string>();
  const canFuseAfter = (node: GraphNode): GraphNode | undefined => {
    if (exposed.has(node.name) || node.name === logits || node.consumers.length !== 1) return undefined;
    const next = graph.byName.get(node.consumers[0]!)!;
    return next.inputs.length === 1 ? next : undefined;
  };

  for (const node of graph.nodes) {
    if (!relevant.has(node.name) || absorbed.has(node.name)) continue;
    if (node.inputs.length === 0) {
      steps.push({ name: node.name, covers: [node.name], inputs: [], shape: node.shape, forward: identityForward });
      continue;
    }
    const group = [node];
    const fuses = fusesAfter(node);
    if (fuses === 'batchnorm-activation') {
      let next = canFuseAfter(node);
      if (next?.op.type === 'batchNorm') {
        group.push(next);
        next = canFuseAfter(next);
      }
      if (next && foldableActivation(next)) group.push(next);
    } else if (fuses === 'activation') {
      const next = canFuseAfter(node);
      if (next && foldableActivation(next)) group.push(next);
    }
    for (const g of group.slice(1)) absorbed.add(g.name);
    steps.push(makeStep(group, graph, logits, weights));
    if (node.name === logits || group.some((g) => g.name === logits)) break;
  }
  const index = new Map(steps.map((s, i) => [s.name, i]));
  if (!index.has(logits)) throw new Error(`internal: logit layer ${logits} not planned`);
  return { steps, index, input: graph.input, logits, lastUse: lastUses(steps) };
}

/**
 * The plan's steps up to `output`, which stands in for the logits (teaching stops at the pooled
 * features; the classifier after them is never run).
 */
export function planUpTo(plan: Plan, output: string): Plan {
  const end = plan.index.get(output);
  if (end === undefined) throw new Error(`internal: ${output} is not a step of the plan`);
  const steps = plan.steps.slice(0, end + 1);
  return {
    steps,
    index: new Map(steps.map((s, i) => [s.name, i])),
    input: plan.input,
    logits: output,
    lastUse: lastUses(steps),
  };
}

/** For each output read by a step, the index of the last step that reads it (once per plan, not per frame). */
function lastUses(steps: readonly Step[]): ReadonlyMap<string, number> {
  const last = new Map<string, number>();
  steps.forEach((step, i) => {
    for (const input of step.inputs) last.set(input, i);
  });
  return last;
}

/** The step for a group; it has a backward pass exactly when `canBackpropagate` says so for its head. */
function makeStep(group: GraphNode[], graph: ModelGraph, logits: string, weights: WeightStore): Step {
  const head = group[0]!;
  const last = group[group.length - 1]!;
  const base: StepBase = {
    name: last.name,
    covers: group.map((g) => g.name),
    inputs: head.inputs,
    shape: last.shape,
  };
  if (!hasOwnOps(head)) return opaqueStep(group, base);
  const inputShape = (i = 0): number[] => graph.byName.get(head.inputs[i]!)!.shape;
  const ops = stepOps({ group, base, inputShape, logits, weights });
  return canBackpropagate(head)
    ? { ...base, forward: ops.forward, backward: ops.backward }
    : { ...base, forward: ops.forward };
}

/** An opaque node runs forward through its format's runtime; it cannot sit between a feature layer and the logits. */
function opaqueStep(group: GraphNode[], base: StepBase): Step {
  const { op } = group[0]!;
  if (group.length > 1 || op.type !== 'opaque') throw new Error('internal: only nodes with own ops are grouped');
  return { ...base, forward: op.forward };
}
