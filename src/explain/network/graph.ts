import type { LayersModel } from '@tensorflow/tfjs-layers';
import { WhyCamError } from '../errors.js';

type Layer = LayersModel['layers'][number];

/** One Keras layer as a node of the network's graph. */
export interface GraphNode {
  name: string;
  className: string;
  layer: Layer;
  /** Names of the nodes feeding this one, in call order. */
  inputs: string[];
  /** Names of the nodes this one feeds. */
  consumers: string[];
  /** Output shape with the batch dimension set to 1. */
  shape: number[];
  config: Record<string, unknown>;
}

/** The layers of a LayersModel in topological order, with their connections. */
export interface ModelGraph {
  nodes: GraphNode[];
  byName: Map<string, GraphNode>;
  input: string;
  output: string;
}

export function readGraph(model: LayersModel): ModelGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new WhyCamError(
      'unsupported-model',
      `The model has ${model.inputs.length} inputs and ${model.outputs.length} outputs.`,
      'WhyCam explains image classifiers with one image input and one class-score output.',
    );
  }
  const seen = new Map<string, Layer>();
  const collect = (layer: Layer): void => {
    if (seen.has(layer.name)) return;
    seen.set(layer.name, layer);
    for (const node of layer.inboundNodes) for (const l of node.inboundLayers) collect(l as Layer);
  };
  const outputLayer = model.outputs[0]!.sourceLayer as Layer;
  collect(outputLayer);

  const nodes = new Map<string, GraphNode>();
  for (const layer of seen.values()) {
    if (layer.inboundNodes.length > 1) {
      throw new WhyCamError(
        'unsupported-model',
        `Layer "${layer.name}" is applied more than once.`,
        'Shared layers are not supported: export the model with each layer used once.',
      );
    }
    const shape = layer.outputShape;
    if (!Array.isArray(shape) || Array.isArray(shape[0])) {
      throw new WhyCamError('unsupported-model', `Layer "${layer.name}" has more than one output.`);
    }
    nodes.set(layer.name, {
      name: layer.name,
      className: layer.getClassName(),
      layer,
      inputs: (layer.inboundNodes[0]?.inboundLayers ?? []).map((l) => l.name),
      consumers: [],
      shape: (shape as (number | null)[]).map((d) => d ?? 1),
      config: layer.getConfig() as Record<string, unknown>,
    });
  }
  for (const node of nodes.values()) {
    for (const input of node.inputs) nodes.get(input)!.consumers.push(node.name);
  }

  // Kahn's algorithm, keeping the model's own layer order among ready nodes so that reports
  // list layers the way Keras prints them.
  const order = new Map(model.layers.map((l, i) => [l.name, i]));
  const pending = new Map([...nodes.values()].map((n) => [n.name, n.inputs.length]));
  const ready = [...nodes.values()].filter((n) => n.inputs.length === 0).map((n) => n.name);
  const sorted: GraphNode[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1));
    const name = ready.shift()!;
    const node = nodes.get(name)!;
    sorted.push(node);
    for (const c of node.consumers) {
      const left = pending.get(c)! - 1;
      pending.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  const inputs = sorted.filter((n) => n.inputs.length === 0);
  if (inputs.length !== 1) {
    throw new WhyCamError('unsupported-model', `The model's graph has ${inputs.length} input layers.`);
  }
  return { nodes: sorted, byName: nodes, input: inputs[0]!.name, output: outputLayer.name };
}

/**
 * Nodes every path from the input to `target` passes through: the places where the network can
 * be cut into a feature extractor and a head. In a plain chain that is every node.
 */
export function cutPoints(graph: ModelGraph, target: string): Set<string> {
  const relevant = ancestors(graph, target);
  const chain = graph.nodes.filter((n) => relevant.has(n.name));
  const position = new Map(chain.map((n, i) => [n.name, i]));
  const bridged = new Array<boolean>(chain.length).fill(false);
  for (const node of chain) {
    const to = position.get(node.name)!;
    for (const input of node.inputs) {
      for (let i = position.get(input)! + 1; i < to; i++) bridged[i] = true;
    }
  }
  return new Set(chain.filter((_, i) => !bridged[i]).map((n) => n.name));
}

/** `target` and every node it depends on. */
export function ancestors(graph: ModelGraph, target: string): Set<string> {
  const found = new Set<string>();
  const visit = (name: string): void => {
    if (found.has(name)) return;
    found.add(name);
    for (const input of graph.byName.get(name)!.inputs) visit(input);
  };
  visit(target);
  return found;
}
