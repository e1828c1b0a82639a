import { describe, expect, it } from 'vitest';
import { percentile, RateMeter, RollingSamples } from '../../src/app/stats.js';

describe('percentile', () => {
  it('is the nearest rank of the sorted values', () => {
    const values = [15, 20, 35, 40, 50];
    expect(percentile(values, 5)).toBe(15);
    expect(percentile(values, 30)).toBe(20);
    expect(percentile(values, 40)).toBe(20);
    expect(percentile(values, 50)).toBe(35);
    expect(percentile(values, 100)).toBe(50);
    expect(percentile(values, 0)).toBe(15);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('RollingSamples', () => {
  it('keeps the last `size` samples only', () => {
    const samples = new RollingSamples(4);
    for (const v of [100, 1, 2, 3, 4]) samples.add(v); // 100 falls out
    expect(samples.percentile(100)).toBe(4);
    expect(samples.percentile(50)).toBe(2);
    samples.clear();
    expect(samples.percentile(50)).toBeNull();
  });
});

describe('RateMeter', () => {
  it('counts events per second over the window', () => {
    const meter = new RateMeter(2000);
    expect(meter.rate(0)).toBe(0);
    for (let t = 0; t <= 1000; t += 100) meter.tick(t); // 11 ticks, 10 intervals in 1 s
    expect(meter.rate(1000)).toBeCloseTo(10, 10);
    meter.tick(1250);
    expect(meter.rate(1250)).toBeCloseTo((11 / 1250) * 1000, 10);
  });

  it('forgets events older than the window', () => {
    const meter = new RateMeter(1000);
    for (let t = 0; t <= 500; t += 50) meter.tick(t); // 20/s
    meter.tick(1600); // everything before 600 ms is now out of the window
    expect(meter.rate(1600)).toBe(0); // one event left: no interval to measure
    meter.tick(1700);
    expect(meter.rate(1700)).toBeCloseTo(10, 10);
    expect(meter.rate(5000)).toBe(0);
    meter.tick(5000);
    meter.tick(5250);
    meter.clear();
    expect(meter.rate(5250)).toBe(0);
  });
});
