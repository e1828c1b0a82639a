import { describe, expect, it } from 'vitest';
import { actionFor, SHORTCUTS } from '../../src/app/shortcuts.js';

/** A key press as the page sees it: `tag` is the element typed into (first on the composed path). */
function press(
  key: string,
  tag = 'BODY',
  modifiers: { ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean } = {},
): KeyboardEvent {
  return {
    key,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    ...modifiers,
    composedPath: () => [{ tagName: tag }],
  } as unknown as KeyboardEvent;
}

describe('the shortcut table', () => {
  it('gives every key one action, and every action one key', () => {
    const keys = SHORTCUTS.map((s) => s.key);
    const actions = SHORTCUTS.map((s) => s.action);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(actions).size).toBe(actions.length);
    expect(SHORTCUTS.every((s) => s.label().length > 0)).toBe(true);
  });

  it('maps the keys the README documents', () => {
    const documented: Record<string, string> = {
      c: 'toggle-cam',
      m: 'next-method',
      l: 'layer-toward-input',
      L: 'layer-toward-output',
      r: 'toggle-reduction',
      u: 'unpin',
      k: 'next-colormap',
      '[': 'alpha-down',
      ']': 'alpha-up',
      ',': 'threshold-down',
      '.': 'threshold-up',
      s: 'next-smoothing',
      ' ': 'freeze',
      o: 'open-image',
      w: 'save',
      n: 'next-model',
      x: 'toggle-crop',
      f: 'mirror',
      g: 'presentation',
      h: 'hud',
      b: 'side-by-side',
      '?': 'help',
      Escape: 'close',
      v: 'use-camera',
    };
    for (const [key, action] of Object.entries(documented)) expect(actionFor(press(key)), key).toBe(action);
    expect(actionFor(press('z'))).toBeUndefined();
  });

  it('leaves keys with Ctrl, Cmd or Alt to the browser', () => {
    expect(actionFor(press('w', 'BODY', { ctrlKey: true }))).toBeUndefined();
    expect(actionFor(press('c', 'BODY', { metaKey: true }))).toBeUndefined();
    expect(actionFor(press('n', 'BODY', { altKey: true }))).toBeUndefined();
  });

  it('does not act on typing into a field, except Escape', () => {
    for (const tag of ['INPUT', 'SELECT', 'TEXTAREA']) {
      expect(actionFor(press('m', tag)), tag).toBeUndefined();
      expect(actionFor(press(' ', tag)), tag).toBeUndefined();
      expect(actionFor(press('Escape', tag)), tag).toBe('close');
    }
  });

  it('lets a focused button have Space and Enter, but not the other keys', () => {
    expect(actionFor(press(' ', 'BUTTON'))).toBeUndefined();
    expect(actionFor(press('Enter', 'BUTTON'))).toBeUndefined();
    expect(actionFor(press('m', 'BUTTON'))).toBe('next-method');
  });
});
