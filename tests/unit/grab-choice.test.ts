import { describe, expect, it } from 'vitest';
import { GrabChoice } from '../../src/app/grab-choice.js';

type Way = 'videoframe' | 'bitmap';

/** Runs frames through the choice: `cost(way, i)` is what the i-th frame grabbed that way cost. */
function run(choice: GrabChoice<Way>, frames: number, cost: (way: Way, i: number) => number): Way[] {
  const used: Way[] = [];
  const counts: Record<Way, number> = { videoframe: 0, bitmap: 0 };
  for (let f = 0; f < frames; f++) {
    const way = choice.next();
    used.push(way);
    choice.measured(way, cost(way, counts[way]++));
  }
  return used;
}

describe('GrabChoice', () => {
  it("times each way on three frames, then keeps the cheaper one (WebKitGTK's figures)", () => {
    const choice = new GrabChoice<Way>(['videoframe', 'bitmap']);
    // VideoFrame: 0.02 ms on the page + copyTo in the worker (slow the first time); ImageBitmap: ~160 ms.
    const used = run(choice, 10, (way, i) => (way === 'videoframe' ? ([21, 1.1, 0.8][i] ?? 0.8) : 160 + i));
    expect(used.slice(0, 6)).toEqual(['videoframe', 'bitmap', 'videoframe', 'bitmap', 'videoframe', 'bitmap']);
    expect(used.slice(6)).toEqual(['videoframe', 'videoframe', 'videoframe', 'videoframe']);
    expect(choice.summary()).toEqual({
      kind: 'videoframe',
      measured: true,
      costs: { videoframe: 1.1, bitmap: 161 },
      failed: [],
    });
  });

  it('where the bitmap is cheaper, the bitmap is kept: the order comes from the measurement, not the name', () => {
    const choice = new GrabChoice<Way>(['videoframe', 'bitmap']);
    const used = run(choice, 8, (way) => (way === 'videoframe' ? 30 : 6));
    expect(used.slice(6)).toEqual(['bitmap', 'bitmap']);
    expect(choice.summary().costs).toEqual({ videoframe: 30, bitmap: 6 });
  });

  it('decides on the median: one slow frame does not make a way lose', () => {
    const choice = new GrabChoice<Way>(['videoframe', 'bitmap']);
    run(choice, 6, (way, i) => (way === 'videoframe' ? [400, 2, 2][i]! : 10));
    expect(choice.next()).toBe('videoframe');
  });

  it('a way that keeps failing is given up once another works; while nothing works, none is', () => {
    const choice = new GrabChoice<Way>(['videoframe', 'bitmap']);
    // The video has no frame yet: every way fails, and both stay.
    for (let i = 0; i < 8; i++) choice.failed(choice.next());
    expect(choice.summary().failed).toEqual([]);
    // Then VideoFrame cannot be sent here while bitmaps work.
    for (let i = 0; i < 12; i++) {
      const way = choice.next();
      if (way === 'videoframe') choice.failed(way);
      else choice.measured(way, 5);
    }
    expect(choice.summary()).toMatchObject({ kind: 'bitmap', failed: ['videoframe'], measured: false });
    expect(choice.next()).toBe('bitmap');
  });

  it('with one way there is nothing to choose', () => {
    const choice = new GrabChoice<Way>(['bitmap']);
    expect(choice.next()).toBe('bitmap');
    choice.measured('bitmap', 3);
    expect(choice.summary()).toEqual({ kind: 'bitmap', measured: false, costs: { bitmap: 3 }, failed: [] });
  });
});
