import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID, FAST_MODEL_ID } from '../../models/registry.js';
import { defaultSettings, startOptions } from '../../src/app/settings.js';

const start = (query: string) => startOptions(new URLSearchParams(query));

describe('startOptions (the address bar)', () => {
  it('without parameters: the default view on the default model, the camera, the best backend', () => {
    const o = start('');
    expect(o).toEqual({ settings: defaultSettings(), backend: null, camera: true });
    expect(o.settings).toMatchObject({
      model: DEFAULT_MODEL_ID,
      method: 'hirescam',
      layer: 'conv_pw_11_relu',
      reduction: 'logit',
      classIndex: null,
      crop: 'center',
    });
  });

  it('takes every valid setting', () => {
    const o = start(
      `backend=wasm&model=${FAST_MODEL_ID}&method=gradcam%2B%2B&layer=conv_pw_13_relu&reduction=softmax&crop=full` +
        '&colormap=viridis&alpha=0.3&threshold=0.2&smoothing=0.5&resolution=720p&class=259.4&presentation=1&hud=0&camera=off',
    );
    expect(o.backend).toBe('wasm');
    expect(o.camera).toBe(false);
    expect(o.settings).toMatchObject({
      model: FAST_MODEL_ID,
      method: 'gradcam++',
      layer: 'conv_pw_13_relu',
      reduction: 'softmax',
      crop: 'full',
      colormap: 'viridis',
      alpha: 0.3,
      threshold: 0.2,
      smoothing: 0.5,
      resolution: '720p',
      classIndex: 259,
      presentation: true,
      hud: false,
    });
  });

  it('ignores unknown names and out-of-range numbers, keeping the defaults', () => {
    const o = start(
      'backend=tpu&model=resnet&method=magic&reduction=max&crop=zoom&colormap=rainbow&alpha=2&threshold=-0.1&smoothing=0.95&resolution=8k&class=1000&projector=yes',
    );
    expect(o.backend).toBeNull();
    expect(o.settings).toEqual(defaultSettings());
    expect(start('projector=1').settings.presentation).toBe(true); // presentation mode's old name, in saved links
    expect(start('class=abc').settings.classIndex).toBeNull();
    expect(start('class=-1').settings.classIndex).toBeNull();
    expect(start('class=999').settings.classIndex).toBe(999);
  });
});
