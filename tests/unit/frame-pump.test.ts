import { describe, expect, it } from 'vitest';
import { FramePump, type FrameSource } from '../../src/app/frame-pump.js';

/** A video whose frames the test presents one at a time. */
class FakeVideo implements FrameSource {
  private callbacks = new Map<number, (now: number, meta: { presentationTime: number }) => void>();
  private next = 1;
  requestVideoFrameCallback(cb: (now: number, meta: { presentationTime: number }) => void): number {
    this.callbacks.set(this.next, cb);
    return this.next++;
  }
  cancelVideoFrameCallback(handle: number): void {
    this.callbacks.delete(handle);
  }
  get waiting(): number {
    return this.callbacks.size;
  }
  /** Presents one frame and lets the pump's grab settle. */
  async present(t: number): Promise<void> {
    const pending = [...this.callbacks.values()];
    this.callbacks.clear();
    for (const cb of pending) cb(t, { presentationTime: t });
    await new Promise((r) => setTimeout(r, 0));
  }
}

/** Timers the test fires itself: `due(t)` runs every timer set to fire by time t (on the fake clock). */
class FakeTimers {
  private pending = new Map<number, { at: number; callback: () => void }>();
  private next = 1;
  constructor(private readonly clock: () => number) {}
  set = (callback: () => void, ms: number): number => {
    this.pending.set(this.next, { at: this.clock() + ms, callback });
    return this.next++;
  };
  clear = (handle: number): void => {
    this.pending.delete(handle);
  };
  /** When the earliest timer fires, or null. */
  get earliest(): number | null {
    const times = [...this.pending.values()].map((t) => t.at);
    return times.length ? Math.min(...times) : null;
  }
  async due(t: number): Promise<void> {
    for (const [handle, timer] of [...this.pending]) {
      if (timer.at > t) continue;
      this.pending.delete(handle);
      timer.callback();
    }
    await new Promise((r) => setTimeout(r, 0));
  }
}

interface FakeBitmap {
  id: number;
  closed: boolean;
  close(): void;
}

function setup(options: { depth?: number; paused?: () => boolean; failGrab?: () => boolean; now?: () => number } = {}) {
  const video = new FakeVideo();
  // Timers that never fire unless the test says: these tests are about presented frames.
  const timers = new FakeTimers(options.now ?? (() => 0));
  const sent: { frameId: number; captureTime: number; picture: FakeBitmap }[] = [];
  const grabbed: FakeBitmap[] = [];
  const pump = new FramePump(video, {
    grabbers: {
      bitmap: async () => {
        if (options.failGrab?.()) throw new Error('no frame');
        const b: FakeBitmap = {
          id: grabbed.length,
          closed: false,
          close() {
            this.closed = true;
          },
        };
        grabbed.push(b);
        return b as unknown as ImageBitmap;
      },
    },
    send: (f) => sent.push(f as unknown as (typeof sent)[number]),
    paused: options.paused ?? (() => false),
    depth: options.depth,
    timers,
    ...(options.now ? { now: options.now } : {}),
  });
  return { video, pump, sent, grabbed, timers };
}

describe('FramePump', () => {
  it('sends up to `depth` frames, then one more per acknowledgement', async () => {
    const { video, pump, sent } = setup({ depth: 2 });
    for (let t = 0; t < 5; t++) await video.present(t * 33);
    expect(sent.map((f) => f.frameId)).toEqual([1, 2]);
    expect(pump.inFlight).toBe(2);
    pump.acknowledge({ frameId: 1 });
    await video.present(200);
    await video.present(233);
    expect(sent.map((f) => f.frameId)).toEqual([1, 2, 3]);
    // An acknowledgement of a frame it never sent (another pump's) changes nothing.
    pump.acknowledge({ frameId: 99 });
    expect(pump.inFlight).toBe(2);
  });

  it('paces the next frame: grabbed at the last video frame before the worker is predicted to finish', async () => {
    let clock = 0;
    const { video, pump, sent } = setup({ now: () => clock });
    const present = (t: number) => {
      clock = t;
      return video.present(t);
    };
    const ack = (frameId: number, at: number) => {
      clock = at;
      pump.acknowledge({ frameId, outcome: 'done' });
    };
    // A 30 fps camera; the worker takes 100 ms a frame. Before anything is measured the second
    // frame goes at once (depth 2).
    await present(0);
    await present(33);
    await present(66);
    await present(99);
    ack(1, 100); // frame 2 (waiting since 33) starts now: predicted done at 200
    // Grabbed with a margin of 15 ms (15 % of 100) before then: at the last video frame before 185.
    await present(132);
    expect(sent).toHaveLength(2);
    await present(165);
    expect(sent).toHaveLength(3);
    await present(198);
    ack(2, 200); // frame 3 starts at 200: done near 300, so the next goes at the last frame before 285
    await present(231);
    expect(sent).toHaveLength(3);
    await present(264);
    expect(sent.map((f) => f.captureTime - performance.timeOrigin)).toEqual([0, 33, 165, 264]);
    expect(pump.inFlight).toBe(2);
  });

  it('any outcome frees the slot: a dropped or failed frame does not stall the pump', async () => {
    const { video, pump, sent } = setup({ depth: 1 });
    await video.present(0);
    expect(sent).toHaveLength(1);
    await video.present(33);
    expect(sent).toHaveLength(1);
    pump.acknowledge({ frameId: 1 });
    await video.present(66);
    expect(sent).toHaveLength(2);
    pump.acknowledge({ frameId: 2 });
    await video.present(99);
    expect(sent.map((f) => f.frameId)).toEqual([1, 2, 3]);
  });

  it('sends nothing while paused, and capture times come from the frame', async () => {
    let paused = true;
    const { video, sent } = setup({ paused: () => paused });
    await video.present(10);
    await video.present(43);
    expect(sent).toHaveLength(0);
    paused = false;
    await video.present(76);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.captureTime).toBeCloseTo(performance.timeOrigin + 76, 6);
  });

  it('a failed grab is retried on the next presented frame', async () => {
    let fail = true;
    const { video, sent } = setup({ failGrab: () => fail });
    await video.present(0);
    expect(sent).toHaveLength(0);
    fail = false;
    await video.present(33);
    expect(sent).toHaveLength(1);
  });

  it('stopping cancels the frame callback and closes a frame grabbed meanwhile', async () => {
    const { video, pump, sent, grabbed } = setup();
    expect(video.waiting).toBe(1);
    // Present, but stop before the grab settles.
    const pending = video.present(0);
    pump.stop();
    await pending;
    expect(sent).toHaveLength(0);
    expect(grabbed).toHaveLength(1);
    expect(grabbed[0]!.closed).toBe(true);
    expect(video.waiting).toBe(0);
  });
});

describe('FramePump, two ways to grab', () => {
  function pictures() {
    const made: { way: string; closed: boolean; close(): void }[] = [];
    const make = (way: string) => {
      const p = {
        way,
        closed: false,
        close() {
          this.closed = true;
        },
      };
      made.push(p);
      return p as unknown as ImageBitmap;
    };
    return { made, make };
  }

  it('times both on real acknowledgements (grab + the worker’s read) and keeps the cheaper', async () => {
    let clock = 0;
    const video = new FakeVideo();
    const { make } = pictures();
    const sent: { frameId: number; picture: { way: string } }[] = [];
    const pump = new FramePump(video, {
      grabbers: {
        videoframe: async () => make('videoframe'),
        // An ImageBitmap takes 160 ms to come back (WebKitGTK).
        bitmap: async () => {
          clock += 160;
          return make('bitmap');
        },
      },
      send: (f) => sent.push(f as unknown as (typeof sent)[number]),
      paused: () => false,
      depth: 1,
      now: () => clock,
      timers: new FakeTimers(() => clock),
    });
    for (let i = 0; i < 10; i++) {
      clock += 33;
      await video.present(clock);
      const last = sent.at(-1)!;
      // The worker reads a VideoFrame in 1 ms, a bitmap in 20.
      pump.acknowledge({ frameId: last.frameId, outcome: 'done', readMs: last.picture.way === 'videoframe' ? 1 : 20 });
    }
    expect(sent.map((f) => f.picture.way).slice(-4)).toEqual(['videoframe', 'videoframe', 'videoframe', 'videoframe']);
    expect(pump.grabbing).toMatchObject({ kind: 'videoframe', measured: true, costs: { videoframe: 1, bitmap: 180 } });
  });

  it('a picture that cannot be sent (not transferable) is closed, and that way is given up', async () => {
    const video = new FakeVideo();
    const { made, make } = pictures();
    const sent: { frameId: number; picture: { way: string } }[] = [];
    const pump = new FramePump(video, {
      grabbers: { videoframe: async () => make('videoframe'), bitmap: async () => make('bitmap') },
      send: (f) => {
        if ((f.picture as unknown as { way: string }).way === 'videoframe')
          throw new DOMException('x', 'DataCloneError');
        sent.push(f as unknown as (typeof sent)[number]);
      },
      paused: () => false,
      depth: 1,
      timers: new FakeTimers(() => 0),
    });
    for (let i = 0; i < 12; i++) {
      await video.present(i * 33);
      const last = sent.at(-1);
      if (last) pump.acknowledge({ frameId: last.frameId, outcome: 'done', readMs: 2 });
    }
    expect(made.filter((p) => p.way === 'videoframe').every((p) => p.closed)).toBe(true);
    expect(pump.grabbing).toMatchObject({ kind: 'bitmap', failed: ['videoframe'] });
    expect(sent.length).toBeGreaterThan(6);
    expect(sent.every((f) => f.picture.way === 'bitmap')).toBe(true);
  });
});

describe('FramePump without presented-frame callbacks (WebKitGTK)', () => {
  it('a timer grabs the next frame just before the worker is predicted to finish, and at once when it is idle', async () => {
    let clock = 0;
    const video = new FakeVideo(); // never presents a frame
    const timers = new FakeTimers(() => clock);
    const sent: { frameId: number; captureTime: number }[] = [];
    const pump = new FramePump(video, {
      grabbers: { videoframe: async () => ({ close() {} }) as unknown as VideoFrame },
      send: (f) => sent.push(f),
      paused: () => false,
      now: () => clock,
      timers,
    });
    // Idle worker: the first frame at once, the second at once too (nothing measured yet, depth 2).
    await timers.due(0);
    await timers.due(0);
    expect(sent.map((f) => f.frameId)).toEqual([1, 2]);
    // The worker takes 80 ms a frame: frame 1 done at 80, frame 2 (waiting) starts then.
    clock = 80;
    pump.acknowledge({ frameId: 1, outcome: 'done', readMs: 1 });
    // The next grab is timed for frame 2's predicted end (80 + 80) less a margin (15 % of 80 = 12 ms).
    expect(timers.earliest).toBe(148);
    await timers.due(147);
    expect(sent).toHaveLength(2);
    // A timer that fires early (the page's clock says 138) waits the 10 ms left, not a poll's 250.
    clock = 138;
    await timers.due(148);
    expect(sent).toHaveLength(2);
    expect(timers.earliest).toBe(148);
    clock = 148;
    await timers.due(148);
    expect(sent).toHaveLength(3);
    expect(sent[2]!.captureTime).toBeCloseTo(performance.timeOrigin + 148, 6);
    // Both slots full: no timer until an acknowledgement.
    expect(timers.earliest).toBeNull();
    pump.stop();
  });

  it('while presented frames come steadily, the timer leaves the grabs to them', async () => {
    let clock = 0;
    const video = new FakeVideo();
    const timers = new FakeTimers(() => clock);
    const sent: { frameId: number }[] = [];
    const pump = new FramePump(video, {
      grabbers: { videoframe: async () => ({ close() {} }) as unknown as VideoFrame },
      send: (f) => sent.push(f),
      paused: () => false,
      now: () => clock,
      timers,
      depth: 1,
    });
    await video.present(0); // a presented frame: grabbed by its callback
    expect(sent).toHaveLength(1);
    clock = 10;
    pump.acknowledge({ frameId: 1, outcome: 'done', readMs: 1 });
    // A slot is free and the timer is due at once, but a frame was presented 10 ms ago: it waits for the next.
    await timers.due(10);
    expect(sent).toHaveLength(1);
    clock = 33;
    await video.present(33);
    expect(sent).toHaveLength(2);
    // Then the presented frames stop coming (the page stopped rendering): the timer takes over.
    clock = 40;
    pump.acknowledge({ frameId: 2, outcome: 'done', readMs: 1 });
    clock = 300;
    await timers.due(300);
    expect(sent).toHaveLength(3);
  });
});
