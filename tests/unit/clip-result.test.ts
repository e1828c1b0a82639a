import { describe, expect, it } from 'vitest';
import { type ClipFrame, type ClipResult, clipCsv, clipJson, topClasses } from '../../src/app/video/clip-result.js';
import { frameAt, type ClipInfo } from '../../src/app/video/clip-file.js';

const p = (classIndex: number, label: string, score: number) => ({ classIndex, label, score });

function frame(index: number, preds: ReturnType<typeof p>[]): ClipFrame {
  return {
    index,
    time: index / 25,
    duration: 1 / 25,
    predictions: preds,
    target: preds[0]!,
    contrast: null,
    heatmap: { width: 2, height: 1, data: new Float32Array([0.25, 1 / 3]) },
    region: { x: 140, y: 0, width: 360, height: 360 },
  };
}

const result: ClipResult = {
  file: 'dog, "sofa".mp4',
  model: 'mobilenet_v1_0.75_224',
  method: 'hirescam',
  reduction: 'logit',
  layer: 'conv_pw_11_relu',
  classIndex: null,
  contrastClass: null,
  every: 1,
  decodedFrames: 3,
  duration: 0.12,
  size: { width: 640, height: 360 },
  frames: [
    frame(0, [p(260, 'chow', 0.6), p(259, 'Pomeranian', 0.38)]),
    frame(1, [p(259, 'Pomeranian', 0.7), p(260, 'chow', 0.2)]),
    frame(2, [p(259, 'Pomeranian', 0.5), p(261, 'keeshond, "wolf" dog', 0.1)]),
  ],
  cancelled: false,
  totalMs: 150,
  framesPerSecond: 20,
  webm: new Blob(['x']),
};

describe('a clip result', () => {
  it('as JSON: every frame with its predictions, target and heatmap as numbers, the settings, and no video', () => {
    const j = JSON.parse(clipJson(result));
    expect(j.webm).toBeUndefined();
    expect(j).toMatchObject({ method: 'hirescam', layer: 'conv_pw_11_relu', every: 1, decodedFrames: 3 });
    expect(j.frames).toHaveLength(3);
    expect(j.frames[1].target).toEqual({ classIndex: 259, label: 'Pomeranian', score: 0.7 });
    expect(j.frames[2].heatmap).toEqual({ width: 2, height: 1, data: [0.25, 0.333333] });
  });

  it('as CSV: a header and one row per frame, quoted where a label holds a comma or a quote', () => {
    const lines = clipCsv(result).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]!.split(',').slice(0, 8)).toEqual([
      'frame',
      'time_s',
      'method',
      'layer',
      'target_class',
      'target_label',
      'target_score',
      'top1_class',
    ]);
    expect(lines[0]!.endsWith('heatmap_width,heatmap_height,heatmap')).toBe(true);
    expect(lines[1]!.startsWith('0,0.0000,hirescam,conv_pw_11_relu,260,chow,0.600000,260,chow,0.600000,259,')).toBe(
      true,
    );
    expect(lines[3]).toContain('"keeshond, ""wolf"" dog"');
    expect(lines[3]!.endsWith(',2,1,0.25 0.333333')).toBe(true);
    // Every row has the header's number of columns (5 predictions, missing ones empty).
    const columns = (line: string) => line.replace(/"(?:[^"]|"")*"/g, 'q').split(',').length;
    for (const l of lines) expect(columns(l)).toBe(columns(lines[0]!));
  });

  it("the timeline's lines: the classes with the highest mean score", () => {
    expect(topClasses(result.frames, 2)).toEqual([
      { classIndex: 259, label: 'Pomeranian' },
      { classIndex: 260, label: 'chow' },
    ]);
  });
});

describe('frameAt', () => {
  const info = { start: 0, frameRate: 25, frameCount: 244 } as ClipInfo;
  it('names the frame whose span holds the time, from 0, within the clip', () => {
    expect(frameAt(info, 0)).toBe(0);
    expect(frameAt(info, 0.039)).toBe(0);
    expect(frameAt(info, 0.04)).toBe(1);
    expect(frameAt(info, 5)).toBe(125);
    expect(frameAt(info, 9.76)).toBe(243);
    expect(frameAt(info, -1)).toBe(0);
    expect(frameAt({ ...info, start: 0.5 }, 0.54)).toBe(1);
  });
});
