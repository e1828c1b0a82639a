import { DEFAULT_MODEL_ID, FAST_MODEL_ID, defaultView } from '../../models/registry.js';
import { COLORMAPS } from '../explain/render/colormaps.js';
import { METHODS } from '../explain/methods/names.js';
import { pairing } from './controllers/comparison.js';
import type { AppSettings } from './settings.js';
import type { Action } from './shortcuts.js';

/** The actions that change settings, and only those (the others act on the camera, files or dialogs). */
type SettingsAction = Exclude<Action, 'freeze' | 'open-image' | 'use-camera' | 'save' | 'record' | 'help' | 'close'>;

export function isSettingsAction(action: Action): action is SettingsAction {
  return !['freeze', 'open-image', 'use-camera', 'save', 'record', 'help', 'close'].includes(action);
}

/**
 * What a key or button changes, given the settings now and the model's layers. The layer keys
 * step through block outputs (the activations); the menu lists every layer.
 */
export function settingsFor(
  action: SettingsAction,
  s: AppSettings,
  layers: readonly { name: string }[],
): Partial<AppSettings> {
  switch (action) {
    case 'toggle-cam':
      // CAM against the default view, the comparison the classroom demo is about.
      return s.method === 'cam' ? defaultView(s.model) : { method: 'cam' };
    case 'next-method':
      return { method: cycle(METHODS, s.method) };
    case 'layer-toward-input':
    case 'layer-toward-output': {
      const blocks = layers.filter((l) => /relu$/.test(l.name));
      const names = ['auto', ...(blocks.length > 0 ? blocks : layers).map((l) => l.name)];
      return { layer: cycle(names, s.layer, action === 'layer-toward-input' ? -1 : 1) };
    }
    case 'toggle-reduction':
      return { reduction: s.reduction === 'logit' ? 'softmax' : 'logit' };
    case 'next-colormap':
      return { colormap: cycle(COLORMAPS, s.colormap) };
    case 'alpha-down':
      return { alpha: Math.max(0, round2(s.alpha - 0.1)) };
    case 'alpha-up':
      return { alpha: Math.min(1, round2(s.alpha + 0.1)) };
    case 'threshold-down':
      return { threshold: Math.max(0, round2(s.threshold - 0.1)) };
    case 'threshold-up':
      return { threshold: Math.min(0.9, round2(s.threshold + 0.1)) };
    case 'next-smoothing':
      return { smoothing: cycle([0, 0.5, 0.8], s.smoothing) };
    case 'unpin':
      return { classIndex: null };
    case 'mirror':
      return { mirror: !s.mirror };
    case 'next-model':
      return { model: s.model === DEFAULT_MODEL_ID ? FAST_MODEL_ID : DEFAULT_MODEL_ID };
    case 'toggle-crop':
      return { crop: s.crop === 'center' ? 'full' : 'center' };
    case 'presentation':
      return { presentation: !s.presentation };
    case 'hud':
      return { hud: !s.hud };
    case 'side-by-side':
      return { compare: s.compare ? null : pairing('method', s, null, []) };
  }
}

function cycle<T>(list: readonly T[], current: T, step = 1): T {
  return list[(list.indexOf(current) + step + list.length) % list.length]!;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
