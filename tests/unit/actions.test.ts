import { describe, expect, it } from 'vitest';
import { isSettingsAction, settingsFor } from '../../src/app/actions.js';
import { pairing, pairingOf } from '../../src/app/controllers/comparison.js';
import { defaultSettings } from '../../src/app/settings.js';
import { SHORTCUTS } from '../../src/app/shortcuts.js';

const LAYERS = [
  { name: 'conv1' },
  { name: 'conv1_relu' },
  { name: 'conv_pw_11' },
  { name: 'conv_pw_11_relu' },
  { name: 'conv_pw_12_relu' },
  { name: 'conv_pw_13_relu' },
];

describe('settingsFor', () => {
  const s = defaultSettings();

  it('toggles between CAM and the default view (HiResCAM at the 14×14 layer, logit)', () => {
    expect(settingsFor('toggle-cam', s, LAYERS)).toEqual({ method: 'cam' });
    const cam = { ...s, method: 'cam' as const, layer: 'conv_pw_13_relu', reduction: 'softmax' as const };
    expect(settingsFor('toggle-cam', cam, LAYERS)).toEqual({
      method: 'hirescam',
      layer: 'conv_pw_11_relu',
      reduction: 'logit',
    });
  });

  it('steps through block outputs only, wrapping through auto', () => {
    const at = (layer: string, action: 'layer-toward-input' | 'layer-toward-output') =>
      settingsFor(action, { ...s, layer }, LAYERS).layer;
    expect(at('conv_pw_11_relu', 'layer-toward-input')).toBe('conv1_relu');
    expect(at('conv1_relu', 'layer-toward-input')).toBe('auto');
    expect(at('auto', 'layer-toward-input')).toBe('conv_pw_13_relu');
    expect(at('conv_pw_11_relu', 'layer-toward-output')).toBe('conv_pw_12_relu');
  });

  it('keeps opacity and threshold in range, rounded', () => {
    expect(settingsFor('alpha-up', { ...s, alpha: 0.95 }, LAYERS)).toEqual({ alpha: 1 });
    expect(settingsFor('alpha-down', { ...s, alpha: 0.3 }, LAYERS)).toEqual({ alpha: 0.2 });
    expect(settingsFor('threshold-up', { ...s, threshold: 0.9 }, LAYERS)).toEqual({ threshold: 0.9 });
    expect(settingsFor('threshold-down', { ...s, threshold: 0.05 }, LAYERS)).toEqual({ threshold: 0 });
  });

  it('cycles method, colormap, smoothing and model', () => {
    expect(settingsFor('next-method', { ...s, method: 'layercam' }, LAYERS)).toEqual({ method: 'hirescam' });
    expect(settingsFor('next-method', { ...s, method: 'hirescam' }, LAYERS)).toEqual({ method: 'cam' });
    expect(settingsFor('next-colormap', { ...s, colormap: 'jet' }, LAYERS)).toEqual({ colormap: 'turbo' });
    expect(settingsFor('next-smoothing', { ...s, smoothing: 0.8 }, LAYERS)).toEqual({ smoothing: 0 });
    expect(settingsFor('next-model', s, LAYERS)).toEqual({ model: 'mobilenet_v1_0.25_224' });
  });

  it('every shortcut is either a settings change or one of the page actions', () => {
    const page = SHORTCUTS.filter((k) => !isSettingsAction(k.action)).map((k) => k.action);
    expect(page.sort()).toEqual(['close', 'freeze', 'help', 'open-image', 'record', 'save', 'use-camera']);
    for (const k of SHORTCUTS) {
      if (isSettingsAction(k.action))
        expect(Object.keys(settingsFor(k.action, s, LAYERS)).length, k.key).toBeGreaterThan(0);
    }
  });
});

describe('the classroom keys and the side-by-side pairings', () => {
  const s = defaultSettings();
  const ready = { camLayer: 'conv_pw_13_relu', lastConvLayer: 'conv_pw_13_relu' } as Parameters<typeof pairing>[2];
  const predictions = [
    { classIndex: 259, label: 'Pomeranian', score: 0.8 },
    { classIndex: 260, label: 'chow', score: 0.1 },
  ];

  it('b puts CAM beside the default view (and the default view beside CAM), and takes it away again', () => {
    expect(settingsFor('side-by-side', s, LAYERS)).toEqual({ compare: { method: 'cam' } });
    expect(settingsFor('side-by-side', { ...s, method: 'cam' }, LAYERS)).toEqual({
      compare: { method: 'hirescam', layer: 'conv_pw_11_relu' },
    });
    expect(settingsFor('side-by-side', { ...s, compare: { method: 'cam' } }, LAYERS)).toEqual({ compare: null });
    expect(settingsFor('hud', s, LAYERS)).toEqual({ hud: false });
    expect(settingsFor('presentation', s, LAYERS)).toEqual({ presentation: true });
  });

  it('pairs 14×14 with 7×7, the explained class with the runner-up, and names the pairing back', () => {
    expect(pairing('layer', s, ready, predictions)).toEqual({ method: 'hirescam', layer: 'conv_pw_13_relu' });
    expect(pairing('layer', { ...s, layer: 'conv_pw_13_relu' }, ready, predictions)).toEqual({
      method: 'hirescam',
      layer: 'conv_pw_11_relu',
    });
    expect(pairing('class', s, ready, predictions)).toEqual({ classIndex: 260 });
    expect(pairing('class', { ...s, classIndex: 260 }, ready, predictions)).toEqual({ classIndex: 259 });
    for (const kind of ['off', 'method', 'layer', 'class'] as const)
      expect(pairingOf(pairing(kind, s, ready, predictions), s)).toBe(kind);
  });
});
