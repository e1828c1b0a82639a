import type { Method } from './names.js';
import type { Network } from '../network/network.js';

/**
 * Grad-CAM++ is computed correctly at every layer (checked against tf.grad and a float64 evaluation
 * of the same formula), but its closed form breaks down inside the network: there its weights come
 * out ≈ ½ Σ relu(gradient) per channel, and at MobileNet's 14×14 layer that favours channels that
 * fire at the image border (the map peaks on the outer ring of cells on 99% of 300 ImageNet photos).
 */
export const GRADCAM_PLUS_PLUS_INNER_LAYER_WARNING =
  'Grad-CAM++ is unreliable at inner layers: its closed-form weights favour the image border here (pointing game ≈ 14% at 14×14); use LayerCAM, or Grad-CAM++ at the last conv layer.';

/**
 * A one-line caution for a method at a layer where it is known to mislead, or null. Only the
 * network's last conv layer is needed (the page passes what the worker's `ready` message names).
 */
export function methodWarning(
  method: Method,
  layer: string,
  network: Pick<Network, 'camLayer'> & { lastConvLayer: { name: string } },
): string | null {
  const last = network.camLayer ?? network.lastConvLayer.name;
  if (method === 'gradcam++' && layer !== last) return GRADCAM_PLUS_PLUS_INNER_LAYER_WARNING;
  return null;
}
