import { describe, expect, test } from 'vitest';
import type { ReactiveControllerHost } from 'lit';
import { NoticesController } from '../../src/app/controllers/notices.js';
import { TrustController } from '../../src/app/controllers/trust.js';
import { defaultSettings } from '../../src/app/settings.js';
import { GRADCAM_PLUS_PLUS_INNER_LAYER_WARNING } from '../../src/explain/methods/warnings.js';
import type { ReadyMessage, ResultMessage } from '../../src/protocol.js';

// The page's "can the map be trusted?" notices: the engine's Grad-CAM++ warning, and the scrambled network.

const host = { addController: () => undefined, requestUpdate: () => undefined } as unknown as ReactiveControllerHost;
const BLOCKS = ['logits', ...Array.from({ length: 13 }, (_, i) => `block ${13 - i}`), 'conv1'];
/** What MobileNet V1's worker says when ready (the fields the notices read). */
const READY = {
  lastConvLayer: 'conv_pw_13_relu',
  camLayer: 'conv_pw_13_relu',
  scrambleBlocks: BLOCKS,
} as unknown as ReadyMessage;

function setup() {
  const notices = new NoticesController(host);
  return { notices, trust: new TrustController(notices), topics: () => notices.all.map((n) => n.topic) };
}

describe('the Grad-CAM++ warning', () => {
  test('shows methodWarning()’s text at an inner layer, and goes at the last conv layer or with another method', () => {
    const { notices, trust, topics } = setup();
    const s = { ...defaultSettings(), method: 'gradcam++' as const, layer: 'conv_pw_11_relu' };
    trust.sync(s, READY);
    expect(notices.all).toEqual([expect.objectContaining({ topic: 'method-warning', kind: 'info' })]);
    expect(notices.all[0]!.message).toBe(GRADCAM_PLUS_PLUS_INNER_LAYER_WARNING);
    trust.sync({ ...s, layer: 'conv_pw_13_relu' }, READY);
    expect(topics()).toEqual([]);
    trust.sync({ ...s, layer: 'conv_pw_5_relu' }, READY);
    expect(topics()).toEqual(['method-warning']);
    // `auto` is the last conv map: no warning.
    trust.sync({ ...s, layer: 'auto' }, READY);
    expect(topics()).toEqual([]);
    trust.sync({ ...s, method: 'layercam' }, READY);
    expect(topics()).toEqual([]);
    // Before the model is ready nothing is known about its layers.
    trust.sync(s, null);
    expect(topics()).toEqual([]);
  });
});

describe('the scrambled network', () => {
  test('a notice names the scrambled blocks while scramble > 0, and the label over the picture says so', () => {
    const { notices, trust, topics } = setup();
    trust.sync({ ...defaultSettings(), scramble: 2 }, READY);
    expect(topics()).toEqual(['scramble']);
    expect(notices.all[0]!.message).toBe(
      'Sanity check: the network is scrambled. Its top 2 blocks (logits down to block 13) have random weights.',
    );
    expect(notices.all[0]!.actions).toEqual([{ label: 'Restore the real network', action: 'unscramble' }]);
    // More blocks than the network has: all 15, down to conv1.
    trust.sync({ ...defaultSettings(), scramble: 40 }, READY);
    expect(notices.all[0]!.message).toContain('top 15 blocks (logits down to conv1)');
    trust.sync(defaultSettings(), READY);
    expect(topics()).toEqual([]);

    const r = { scrambled: 3 } as ResultMessage;
    expect(trust.label('golden retriever 91%', r)).toBe('SCRAMBLED NETWORK (3 blocks) · golden retriever 91%');
    expect(trust.label('golden retriever 91%', { scrambled: 0 } as ResultMessage)).toBe('golden retriever 91%');
  });

  test('the automation API refuses a scramble that is not a whole number of blocks', () => {
    expect(() => TrustController.check(1.5, READY)).toThrow('scramble must be a whole number of blocks from 0 to 15');
    expect(() => TrustController.check(-1, READY)).toThrow();
    expect(() => TrustController.check(3, READY)).not.toThrow();
    expect(() => TrustController.check(undefined, READY)).not.toThrow();
  });
});
