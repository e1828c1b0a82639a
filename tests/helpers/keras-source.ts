import type * as tfl from '@tensorflow/tfjs-layers';
import type { Network } from '../../src/explain/network/network.js';

/**
 * The tfjs-layers model a network was imported from: tests run it as the independent reference
 * (tfjs-layers' own implementation of every layer, and tf.grad through it).
 */
export function kerasSource(network: Network): tfl.LayersModel {
  const model = (network.graph as { sourceModel?: tfl.LayersModel }).sourceModel;
  if (!model) throw new Error('this network was not imported from a Keras model');
  return model;
}
