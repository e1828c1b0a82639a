/**
 * The methods' names and options, without tfjs: the page imports these (it never loads tfjs), the
 * engine the same ones.
 */

export type Method = 'cam' | 'gradcam' | 'gradcam++' | 'layercam' | 'hirescam';
export const METHODS: readonly Method[] = ['cam', 'gradcam', 'gradcam++', 'layercam', 'hirescam'];

export const METHOD_NAMES: Readonly<Record<Method, string>> = {
  cam: 'CAM',
  gradcam: 'Grad-CAM',
  'gradcam++': 'Grad-CAM++',
  layercam: 'LayerCAM',
  hirescam: 'HiResCAM',
};

/** What Grad-CAM differentiates: the class logit (the paper's choice) or its softmax probability (MATLAB's default). */
export type Reduction = 'logit' | 'softmax';
export const REDUCTIONS: readonly Reduction[] = ['logit', 'softmax'];

export function isMethod(s: string): s is Method {
  return (METHODS as readonly string[]).includes(s);
}

/** What the app shows first for a model, and what `c` returns to from CAM. */
export interface DefaultView {
  method: Method;
  layer: string;
  reduction: Reduction;
}
