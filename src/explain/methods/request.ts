/**
 * Request checks shared by every explanation path (the gradient methods, occlusion and LIME), so
 * that a bad option fails the same way, with the same message, before any work is done.
 */
import { WhyCamError } from '../errors.js';
import type { Network } from '../network/network.js';
import { type CropPolicy, CROP_POLICIES } from '../runtime/preprocess.js';
import { isMethod, METHODS, REDUCTIONS } from './names.js';
import type { ExplainRequest, ResolvedRequest } from './types.js';

/** The request checked against the network: the layer found, CAM's layer substituted, defaults filled in. */
export function resolveRequest(network: Network, request: ExplainRequest): ResolvedRequest {
  const method = request.method;
  if (!isMethod(method)) {
    throw new WhyCamError('bad-option', `Unknown method "${String(method)}".`, `Valid methods: ${METHODS.join(', ')}.`);
  }
  const reduction = request.reduction ?? 'logit';
  if (!REDUCTIONS.includes(reduction)) {
    throw new WhyCamError(
      'bad-option',
      `Unknown reduction "${String(reduction)}".`,
      `Valid reductions: ${REDUCTIONS.join(', ')}.`,
    );
  }
  let layer = network.layer(request.layer);
  if (method === 'cam') {
    const camLayer = network.camLayer;
    if (!camLayer) {
      throw new WhyCamError(
        'method-unavailable',
        network.camUnavailable!,
        'Use gradcam, gradcam++, layercam or hirescam instead.',
      );
    }
    if (request.layer === undefined || request.layer === 'auto') layer = network.layer(camLayer);
    else if (layer.name !== camLayer) {
      throw new WhyCamError(
        'method-unavailable',
        `CAM is defined only at "${camLayer}", the layer global average pooling reads; "${layer.name}" was asked for.`,
        `Use --layer auto (or ${camLayer}) with CAM, or gradcam / gradcam++ / layercam / hirescam at ${layer.name}.`,
      );
    }
  }
  const classIndex = checkClassIndex(request.classIndex ?? null, network.numClasses);
  const contrastClass = checkClassIndex(request.contrastClass ?? null, network.numClasses);
  return { method, layer, reduction, classIndex, contrastClass };
}

/** A class index in range, or null (the top-1). */
export function checkClassIndex(index: number | null, numClasses: number): number | null {
  if (index !== null && !(Number.isInteger(index) && index >= 0 && index < numClasses)) {
    throw new WhyCamError(
      'unknown-class',
      `Class index ${index} is out of range.`,
      `Valid class indices are 0 to ${numClasses - 1}.`,
    );
  }
  return index;
}

/** How many predictions to report: a whole number from 1 to the class count (default 5, or fewer classes). */
export function checkTopK(numClasses: number, topK = Math.min(5, numClasses)): number {
  if (!Number.isInteger(topK) || topK < 1 || topK > numClasses) {
    throw new WhyCamError('bad-option', `topK must be a whole number from 1 to ${numClasses}; got ${topK}.`);
  }
  return topK;
}

export function checkCrop(crop: CropPolicy = 'center'): CropPolicy {
  if (!CROP_POLICIES.includes(crop)) {
    throw new WhyCamError(
      'bad-option',
      `Unknown crop policy "${String(crop)}".`,
      `Valid: ${CROP_POLICIES.join(', ')}.`,
    );
  }
  return crop;
}
