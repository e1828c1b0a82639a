import { msg, str } from '@lit/localize';
import { METHOD_NAMES, type Method } from '../../explain/methods/names.js';

/**
 * What a saved picture's title says about the map, in the page's language. The engine's method
 * names (Grad-CAM, LayerCAM…) are the papers' terms and stay as they are.
 */
export function methodCaption(method: Method, layer: string): string {
  return msg(str`${METHOD_NAMES[method]}, layer ${layer}`);
}
