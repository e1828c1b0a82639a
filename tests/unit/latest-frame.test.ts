import { describe, expect, it } from 'vitest';
import { CaptureClock, LatestFrame } from '../../workers/latest-frame.js';

describe('LatestFrame', () => {
  it('keeps only the newest frame and hands every replaced one to discard, counting them', () => {
    const discarded: string[] = [];
    const slot = new LatestFrame<string>((f) => discarded.push(f));
    expect(slot.take()).toBeNull();
    slot.put('a');
    slot.put('b');
    slot.put('c');
    expect(discarded).toEqual(['a', 'b']);
    expect(slot.take()).toEqual({ frame: 'c', skipped: 2 });
    expect(slot.take()).toBeNull();
    slot.put('d');
    expect(slot.take()).toEqual({ frame: 'd', skipped: 0 });
    expect(discarded).toEqual(['a', 'b']);
  });

  it('next() resolves when a frame arrives, at once when one is held', async () => {
    const slot = new LatestFrame<number>(() => undefined);
    let resolved = false;
    const waiting = slot.next().then(() => {
      resolved = true;
    });
    await Promise.resolve();
    expect(resolved).toBe(false);
    slot.put(1);
    await waiting;
    expect(resolved).toBe(true);
    await slot.next(); // still held: resolves at once
    expect(slot.take()?.frame).toBe(1);
  });

  it('a wake() while nobody waits is not lost: the next next() returns at once, only once', async () => {
    const slot = new LatestFrame<number>(() => undefined);
    slot.wake();
    await slot.next();
    let resolved = false;
    void slot.next().then(() => {
      resolved = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(resolved).toBe(false);
    slot.wake();
    await new Promise((r) => setTimeout(r, 0));
    expect(resolved).toBe(true);
  });
});

describe('CaptureClock', () => {
  it('maps capture timestamps (µs) to the wall clock by the smallest arrival delay seen', () => {
    const clock = new CaptureClock();
    // Frame 1 captured at 1 000 000 µs arrives at wall time 5 008 ms: offset 4 008 ms so far.
    expect(clock.captureTime(1_000_000, 5_008)).toBe(5_008);
    // Frame 2 (33 ms later) arrives after only 2 ms: the offset shrinks to 4 002 ms.
    expect(clock.captureTime(1_033_000, 5_035)).toBe(5_035);
    // Frame 3 arrives late (30 ms): its capture time comes from the best offset, not its arrival.
    expect(clock.captureTime(1_066_000, 5_098)).toBe(1_066 + 4_002);
    // The first frame, mapped again, moves to the better estimate.
    expect(clock.captureTime(1_000_000, 9_999)).toBe(5_002);
  });

  it('a drifting capture clock does not make waits grow: the offset is taken over recent frames', () => {
    // WebKit's mock camera: frames stamped 1/30 s apart, delivered 29 per second, each read at once.
    const clock = new CaptureClock(90);
    const waits: number[] = [];
    for (let i = 0; i < 600; i++) {
      const arrived = 1_000 + (i * 1000) / 29;
      waits.push(arrived - clock.captureTime(((i * 1000) / 30) * 1000, arrived));
    }
    // The drift is 1.15 ms per frame: over all 600 frames the wait would reach ~690 ms.
    expect(waits.at(-1)!).toBeGreaterThan(90);
    expect(waits.at(-1)!).toBeLessThan(90 * 1.2);
    expect(Math.max(...waits)).toBeLessThan(90 * 1.2);
  });

  it('forgets the offset on reset (a new camera session has another capture clock)', () => {
    const clock = new CaptureClock();
    clock.captureTime(1_000_000, 5_001);
    clock.reset();
    expect(clock.captureTime(1_000_000, 7_000)).toBe(7_000);
  });
});
