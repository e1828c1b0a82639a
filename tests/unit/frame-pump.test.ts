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

interface FakeBitmap {
  id: number;
  closed: boolean;
  close(): void;
}

function setup(options: { depth?: number; paused?: () => boolean; failGrab?: () => boolean; now?: () => number } = {}) {
  const video = new FakeVideo();
  const sent: { frameId: number; captureTime: number; bitmap: FakeBitmap }[] = [];
  const grabbed: FakeBitmap[] = [];
  const pump = new FramePump(video, {
    grab: async () => {
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
    send: (f) => sent.push(f as unknown as (typeof sent)[number]),
    paused: options.paused ?? (() => false),
    depth: options.depth,
    ...(options.now ? { now: options.now } : {}),
  });
  return { video, pump, sent, grabbed };
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
    await present(132);
    await present(165);
    expect(sent).toHaveLength(2);
    await present(198); // the last video frame before 200: grabbed
    ack(2, 200); // frame 3 starts at 200: done near 300
    await present(231);
    await present(264);
    expect(sent).toHaveLength(3);
    await present(297);
    expect(sent.map((f) => f.captureTime - performance.timeOrigin)).toEqual([0, 33, 198, 297]);
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
