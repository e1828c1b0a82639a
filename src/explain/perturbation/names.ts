// The perturbation methods' names and options, without tfjs: the page imports these (it never
// loads tfjs), the engine the same ones.

/** The model-agnostic methods: many forward passes per picture, so for still pictures and frozen frames. */
export type PerturbationMethod = 'occlusion' | 'lime';
export const PERTURBATION_METHODS: readonly PerturbationMethod[] = ['occlusion', 'lime'];
export const PERTURBATION_METHOD_NAMES: Readonly<Record<PerturbationMethod, string>> = {
  occlusion: 'Occlusion',
  lime: 'LIME',
};

export function isPerturbationMethod(s: string): s is PerturbationMethod {
  return (PERTURBATION_METHODS as readonly string[]).includes(s);
}

/** How LIME cuts the picture into features: a regular grid, or superpixels (SLIC). */
export type Segmentation = 'grid' | 'superpixels';
export const SEGMENTATIONS: readonly Segmentation[] = ['grid', 'superpixels'];
