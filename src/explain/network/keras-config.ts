/** Reading a Keras layer's config: its activation, conv geometry and BatchNorm axis, as the engine needs them. */
import { type Activation, isActivation } from './activations.js';
import type { GraphNode } from './graph.js';

export type Padding = 'same' | 'valid';

export interface ConvGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
}

export function undilated(g: ConvGeometry): boolean {
  return g.dilations[0] === 1 && g.dilations[1] === 1;
}

/** The layer's own activation; the logit layer counts as linear (its softmax is applied separately). */
export function activationOf(node: GraphNode, logits: string): Activation | 'softmax' | string {
  const act = (node.config['activation'] as string | undefined) ?? 'linear';
  return node.name === logits && act === 'softmax' ? 'linear' : act;
}

export function standaloneActivation(node: GraphNode): Activation | undefined {
  if (node.className === 'Activation') {
    const act = node.config['activation'] as string;
    return isActivation(act) ? act : undefined;
  }
  if (node.className === 'ReLU') {
    const max = node.config['maxValue'] as number | null | undefined;
    const slope = (node.config['negativeSlope'] as number | undefined) ?? 0;
    const threshold = (node.config['threshold'] as number | undefined) ?? 0;
    if (slope !== 0 || threshold !== 0) return undefined;
    if (max === null || max === undefined) return 'relu';
    if (max === 6) return 'relu6';
  }
  return undefined;
}

export function isChannelsLastBatchNorm(node: GraphNode): boolean {
  const axis = node.config['axis'] as number | number[];
  const a = Array.isArray(axis) ? axis : [axis];
  return a.length === 1 && (a[0] === -1 || a[0] === node.shape.length - 1);
}

export function convGeometry(node: GraphNode): ConvGeometry | undefined {
  const c = node.config;
  const padding = c['padding'] as string;
  if ((padding !== 'same' && padding !== 'valid') || c['dataFormat'] === 'channelsFirst') return undefined;
  return {
    kernel: pair(c['kernelSize']),
    strides: pair(c['strides'] ?? 1),
    dilations: pair(c['dilationRate'] ?? 1),
    padding,
  };
}

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number];
}
