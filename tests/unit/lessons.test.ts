import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultView, MODELS } from '../../models/registry.js';
import { METHODS } from '../../src/explain/methods/names.js';
import { LESSON_IDS, LESSONS, type LessonContext } from '../../src/app/lessons/lesson-plan.js';
import { type LessonProgress, loadProgress, saveProgress } from '../../src/app/lessons/lesson-progress.js';

// The lessons as data: every step works out valid settings for every registered model, and the
// progress kept in local storage comes back as it was, survives a full storage by dropping the
// board's oldest pictures, and is ignored when it is not a lesson's.

describe('the lesson plan', () => {
  it('has the four lessons of the issue, each of 4 steps with every text', () => {
    expect(LESSONS.map((l) => l.id)).toEqual([...LESSON_IDS]);
    expect(LESSON_IDS).toEqual(['look', 'shortcut', 'fool', 'real']);
    for (const l of LESSONS) {
      expect(l.steps).toHaveLength(4);
      expect(l.title().length).toBeGreaterThan(5);
      const tasks = l.steps.map((s) => s.text().task);
      expect(new Set(tasks).size).toBe(4);
      for (const s of l.steps) for (const t of Object.values(s.text())) expect(t.trim().length).toBeGreaterThan(5);
    }
  });

  it("works out each step's settings for every registered model: its own default view, a real method, no stale pin", () => {
    for (const model of MODELS) {
      const context: LessonContext = {
        defaultView: defaultView(model.id),
        camLayer: 'pool-input',
        scrambleBlocks: ['logits', 'block 2', 'block 1'],
        predictions: [207, 208, 3],
      };
      for (const l of LESSONS)
        for (const [i, s] of l.steps.entries()) {
          const settings = s.settings(context);
          const where = `${model.id} ${l.id} step ${i + 1}`;
          expect(METHODS, where).toContain(settings.method);
          expect(typeof settings.layer, where).toBe('string');
          // Every step says what it wants of the pin, the contrast, the comparison and the scramble.
          for (const k of ['classIndex', 'contrastClass', 'compare', 'scramble'] as const)
            expect(settings, `${where}: ${k}`).toHaveProperty(k);
          if (settings.method === defaultView(model.id).method && !settings.compare)
            expect(settings.layer, where).toBe(defaultView(model.id).layer);
        }
    }
    const [look, , , real] = LESSONS;
    const ctx: LessonContext = {
      defaultView: { method: 'hirescam', layer: 'conv_pw_11_relu' },
      camLayer: 'conv_pw_13_relu',
      scrambleBlocks: ['logits', 'block 1'],
      predictions: [207, 208],
    };
    expect(look!.steps[1]!.settings(ctx).compare).toEqual({ method: 'cam' });
    expect(look!.steps[2]!.settings(ctx).classIndex).toBe(208); // the runner-up
    expect(look!.steps[3]!.settings(ctx)).toMatchObject({ classIndex: null, contrastClass: 208 });
    expect(real!.steps.map((s) => s.settings(ctx).scramble)).toEqual([0, 2, 2, 0]);
    expect(LESSONS[1]!.steps[1]!.settings(ctx)).toMatchObject({ method: 'cam', layer: 'conv_pw_13_relu' });
  });
});

describe('lesson progress on the device', () => {
  let store: Map<string, string>;
  let limit: number;
  const original = (globalThis as { localStorage?: Storage }).localStorage;

  beforeEach(() => {
    store = new Map();
    limit = Infinity;
    (globalThis as { localStorage?: unknown }).localStorage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => {
        if (v.length > limit) throw new DOMException('full', 'QuotaExceededError');
        store.set(k, v);
      },
      removeItem: (k: string) => void store.delete(k),
    };
  });
  afterEach(() => {
    (globalThis as { localStorage?: unknown }).localStorage = original;
  });

  const picture = (n: number) => ({
    image: `data:image/jpeg;base64,${'A'.repeat(1000)}${n}`,
    label: `class ${n}`,
    score: n / 10,
    method: 'HiResCAM',
    at: n,
  });

  it('comes back as it was kept, and is forgotten with null', () => {
    const progress: LessonProgress = { id: 'fool', step: 2, board: [picture(1), picture(2)] };
    saveProgress(progress);
    expect(loadProgress()).toEqual(progress);
    saveProgress(null);
    expect(loadProgress()).toBeNull();
  });

  it("drops the board's oldest pictures when storage is full, keeping the step", () => {
    limit = 2600; // room for two pictures of about 1 kB, not three
    saveProgress({ id: 'fool', step: 3, board: [picture(1), picture(2), picture(3)] });
    const kept = loadProgress()!;
    expect(kept.step).toBe(3);
    expect(kept.board.map((b) => b.at)).toEqual([2, 3]);
  });

  it('ignores what is not a lesson: another id, a broken step, pictures that are not images', () => {
    store.set('whycam.lesson', JSON.stringify({ id: 'cooking', step: 1, board: [] }));
    expect(loadProgress()).toBeNull();
    store.set('whycam.lesson', '{not json');
    expect(loadProgress()).toBeNull();
    store.set('whycam.lesson', JSON.stringify({ id: 'look', step: 1.5, board: [] }));
    expect(loadProgress()).toBeNull();
    store.set('whycam.lesson', JSON.stringify({ id: 'look', step: 1, board: [{ image: 'javascript:1' }, picture(4)] }));
    expect(loadProgress()!.board.map((b) => b.at)).toEqual([4]);
  });
});
