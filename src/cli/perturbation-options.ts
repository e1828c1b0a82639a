import { WhyCamError } from '../explain/errors.js';
import { DEFAULT_LIME, type Segmentation, SEGMENTATIONS } from '../explain/perturbation/lime.js';
import type { PerturbationRequest } from '../explain/perturbation/perturbation.js';
import { numberIn, oneOf } from './args.js';

/** Options of occlusion sensitivity and LIME, shared by `explain` and `eval`. */
export const PERTURBATION_OPTIONS = {
  'mask-size': { type: 'string' },
  stride: { type: 'string' },
  'mask-value': { type: 'string' },
  'num-samples': { type: 'string' },
  'num-features': { type: 'string' },
  segmentation: { type: 'string' },
} as const;

export const PERTURBATION_USAGE = `  occlusion (MATLAB's occlusionSensitivity options):
  --mask-size N       side of the square patch in input pixels (default 20% of the input: 45 at 224)
  --stride N          distance between patch centres in input pixels (default 10%: 22 at 224)
  --mask-value V      what the patch shows: a grey level 0-255, or auto = the picture's mean colour (default)
  LIME (MATLAB's imageLIME options, linear surrogate):
  --num-samples N     perturbed pictures to fit on (default ${DEFAULT_LIME.numSamples})
  --num-features N    segments to cut the picture into (default ${DEFAULT_LIME.numFeatures})
  --segmentation S    ${SEGMENTATIONS.join(' | ')} (default ${DEFAULT_LIME.segmentation})`;

type Values = { [K in keyof typeof PERTURBATION_OPTIONS]?: string };

/** The parsed options, with grey levels turned into the network's input units. */
export function perturbationOptions(
  o: Values,
  inputRange: readonly [number, number] = [-1, 1],
): Pick<PerturbationRequest, 'occlusion' | 'lime'> {
  const whole = (value: string | undefined, option: string, min: number, max: number): number | undefined => {
    if (value === undefined) return undefined;
    const n = numberIn(value, option, min, max, min);
    if (!Number.isInteger(n))
      throw new WhyCamError('bad-option', `${option} ${value} is not valid.`, 'Give a whole number.');
    return n;
  };
  const maskSize = whole(o['mask-size'], '--mask-size', 1, 4096);
  const stride = whole(o.stride, '--stride', 1, 4096);
  const grey =
    o['mask-value'] === undefined || o['mask-value'] === 'auto'
      ? undefined
      : numberIn(o['mask-value'], '--mask-value', 0, 255, 0);
  const [lo, hi] = inputRange;
  const numSamples = whole(o['num-samples'], '--num-samples', 2, 1e6);
  const numFeatures = whole(o['num-features'], '--num-features', 1, 10000);
  const segmentation: Segmentation | undefined =
    o.segmentation === undefined ? undefined : oneOf(o.segmentation, SEGMENTATIONS, '--segmentation', 'superpixels');
  return {
    occlusion: {
      ...(maskSize !== undefined ? { maskSize } : {}),
      ...(stride !== undefined ? { stride } : {}),
      ...(grey !== undefined ? { maskValue: lo + (grey / 255) * (hi - lo) } : {}),
    },
    lime: {
      ...(numSamples !== undefined ? { numSamples } : {}),
      ...(numFeatures !== undefined ? { numFeatures } : {}),
      ...(segmentation !== undefined ? { segmentation } : {}),
    },
  };
}
