import type { Explainer } from '../../src/explain/methods/explainer.js';
import { type NodeBackend, useNodeBackend } from '../../src/node/backend.js';
import { loadExplainerFromDisk } from '../../src/node/load-model.js';
import { SHARED_MODELS } from './shared.js';

/** An explainer for a model from the shared mirror, on the given backend. */
export async function mirrorExplainer(backend: NodeBackend, id = 'mobilenet_v1_0.75_224'): Promise<Explainer> {
  await useNodeBackend(backend);
  return loadExplainerFromDisk(id, SHARED_MODELS);
}
