import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { defaultView } from '../../models/registry.js';
import { evalCommand } from '../../src/cli/eval-command.js';
import {
  type BoxedImage,
  type EvalReport,
  evaluateDevSet,
  type ImageRow,
  scoreMap,
} from '../../src/explain/evaluation/dev-set.js';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { METHODS } from '../../src/explain/methods/names.js';
import type { Heatmap } from '../../src/explain/methods/types.js';
import type { Region } from '../../src/explain/runtime/preprocess.js';
import { useNodeBackend } from '../../src/node/backend.js';
import { readImage } from '../../src/node/image-io.js';
import { loadModelOption } from '../../src/node/model-path.js';
import { SHARED_MODELS, VAL_BBOX } from '../helpers/shared.js';

// The development-set evaluation on the 15 ImageNet validation photos with ground-truth boxes:
// the engine's structured rows checked against a naive re-implementation here, and `whycam eval`
// printing them.

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    const code = await evalCommand(args);
    return { code, out: log.mock.calls.map((c) => String(c[0])).join('\n') };
  } finally {
    log.mockRestore();
  }
}

const BOXES = path.join(VAL_BBOX, 'boxes.json');

beforeAll(() => {
  process.env['WHYCAM_MODELS_DIR'] = SHARED_MODELS;
});
afterEach(() => vi.restoreAllMocks());

// ---- An independent reference: the definitions, written out as plainly as possible. ----

/** Is (x, y) inside an inclusive-pixel box [x0, y0, x1, y1], i.e. x0 ≤ x < x1 + 1? */
const inside = (x: number, y: number, boxes: readonly (readonly number[])[]): boolean =>
  boxes.some(([x0, y0, x1, y1]) => x >= x0! && x < x1! + 1 && y >= y0! && y < y1! + 1);

/** The map's value at a picture pixel's centre: bilinear between cell centres, clamped at the edges; 0 off the region. */
function sampleAt(h: Heatmap, r: Region, px: number, py: number): number {
  if (px < r.x || px >= r.x + r.width || py < r.y || py >= r.y + r.height) return 0;
  const u = Math.min(Math.max(((px + 0.5 - r.x) / r.width) * h.width - 0.5, 0), h.width - 1);
  const v = Math.min(Math.max(((py + 0.5 - r.y) / r.height) * h.height - 0.5, 0), h.height - 1);
  const [c0, r0] = [Math.floor(u), Math.floor(v)];
  const [c1, r1] = [Math.min(c0 + 1, h.width - 1), Math.min(r0 + 1, h.height - 1)];
  const at = (c: number, rr: number): number => h.data[rr * h.width + c]!;
  const top = at(c0, r0) * (1 - (u - c0)) + at(c1, r0) * (u - c0);
  const bottom = at(c0, r1) * (1 - (u - c0)) + at(c1, r1) * (u - c0);
  return top * (1 - (v - r0)) + bottom * (v - r0);
}

/** Pointing game (the first maximal cell's centre in a box) and energy in box, from scratch. */
function reference(h: Heatmap, r: Region, row: ImageRow): { hit: boolean; energy: number } {
  let best = 0;
  h.data.forEach((v, i) => {
    if (v > h.data[best]!) best = i;
  });
  const peakX = r.x + (((best % h.width) + 0.5) * r.width) / h.width;
  const peakY = r.y + ((Math.floor(best / h.width) + 0.5) * r.height) / h.height;
  let total = 0;
  let within = 0;
  for (let y = 0; y < row.height; y++) {
    for (let x = 0; x < row.width; x++) {
      const value = Math.max(0, sampleAt(h, r, x, y));
      total += value;
      if (inside(x, y, row.boxes)) within += value;
    }
  }
  return { hit: inside(peakX, peakY, row.boxes), energy: total > 0 ? within / total : 0 };
}

describe('scoring one map: a case small enough to work by hand', () => {
  // A 4×4 picture and a 2×2 map covering it. The box is the top-left 2×2 pixels.
  const boxes = [[0, 0, 1, 1] as const];
  const region = { x: 0, y: 0, width: 4, height: 4 };

  test('a map that is all top-left points there and holds its mass there', () => {
    const map: Heatmap = { width: 2, height: 2, data: Float32Array.from([1, 0, 0, 0]) };
    const s = scoreMap(map, region, 4, 4, boxes, true);
    // The peak is cell (0, 0), whose centre is pixel (1, 1): inside the box.
    expect(s.hit).toBe(true);
    // Upsampled at pixel centres p + 0.5 → map coordinate (p + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25,
    // clamped to 0, 0.25, 0.75, 1: weights of the first cell per axis w = [1, 0.75, 0.25, 0].
    // Mass = (Σw)² = 2²; inside the box = (1 + 0.75)² = 3.0625; energy = 3.0625 / 4.
    expect(s.energy).toBeCloseTo(3.0625 / 4, 6);
    // The box of the region above 15% of the maximum: pixels with w_x·w_y ≥ 0.15 are the 3×3 top-left
    // (0.25·0.75 = 0.1875 ≥ 0.15; only the corner 0.25·0.25 = 0.0625 falls below), so the bounding
    // box spans x, y ∈ 0…2. IoU with [0, 0, 1, 1] is 4/9 < 0.5: not located.
    expect(s.located).toBe(false);
  });

  test('a map peaking outside the box misses it, and a wrong class is never located', () => {
    const map: Heatmap = { width: 2, height: 2, data: Float32Array.from([0.2, 0, 0, 1]) };
    const s = scoreMap(map, region, 4, 4, boxes, true);
    expect(s.hit).toBe(false);
    // w for the first cell [1, .75, .25, 0], for the last [0, .25, .75, 1]; the box holds
    // 0.2·1.75² + 1·0.25² = 0.675 of 0.2·4 + 1·4 = 4.8.
    expect(s.energy).toBeCloseTo(0.675 / 4.8, 6);
    const exact: Heatmap = {
      width: 4,
      height: 4,
      data: Float32Array.from([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    };
    expect(scoreMap(exact, region, 4, 4, boxes, true)).toEqual({ hit: true, energy: 1, located: true });
    expect(scoreMap(exact, region, 4, 4, boxes, false).located).toBe(false);
  });
});

describe('the development set: 15 photos, every method at three layers', () => {
  let explainer: Explainer;
  let report: EvalReport;
  let images: ImageRow[];
  beforeAll(async () => {
    await useNodeBackend('wasm');
    const loaded = await loadModelOption({}, SHARED_MODELS);
    explainer = loaded.explainer;
    const entries = (JSON.parse(await fs.readFile(BOXES, 'utf8')) as BoxedImage[]).map((e) => ({
      ...e,
      file: path.join(VAL_BBOX, e.file),
    }));
    ({ report, images } = await evaluateDevSet(explainer, entries, {
      layers: 'conv_pw_13_relu,conv_pw_11_relu,conv_pw_9_relu',
      reduction: 'logit',
      crop: 'full',
      view: loaded.view,
      model: loaded.name,
      steps: 0,
      blurSigma: 5,
      seeds: 1,
      perturbation: {},
      readImage,
      keepMaps: true,
    }));
  });
  afterAll(() => explainer?.dispose());

  test('scores every method at the last and a 14×14 layer, and says why CAM is not at 14×14', () => {
    expect(report.n).toBe(15);
    expect(report.nSmall).toBe(6);
    expect(Object.keys(report.methods)).toEqual(
      ['conv_pw_13_relu', 'conv_pw_11_relu', 'conv_pw_9_relu'].flatMap((layer) =>
        METHODS.filter((m) => m !== 'cam' || layer === 'conv_pw_13_relu').map((m) => `${m}@${layer}`),
      ),
    );
    expect(report.skipped).toEqual(
      ['conv_pw_11_relu', 'conv_pw_9_relu'].map((layer) => ({
        method: 'cam',
        layer,
        reason: expect.stringContaining('CAM is defined only at "conv_pw_13_relu"') as unknown,
      })),
    );
  });

  test('each map is scored as the definitions say: pointing and energy recomputed from scratch', () => {
    expect(images).toHaveLength(15);
    for (const key of Object.keys(report.methods)) {
      let hits = 0;
      let smallHits = 0;
      let energy = 0;
      for (const row of images) {
        const m = row.maps[key]!;
        const ref = reference(m.heatmap!, m.region!, row);
        expect(m.hit, `${key} ${row.file}`).toBe(ref.hit);
        expect(m.energy, `${key} ${row.file}`).toBeCloseTo(ref.energy, 4);
        hits += Number(ref.hit);
        smallHits += Number(ref.hit && row.small);
        energy += ref.energy;
      }
      expect(report.methods[key]!.pointingGame, key).toBeCloseTo(hits / 15, 9);
      expect(report.methods[key]!.pointingGameSmall, key).toBeCloseTo(smallHits / report.nSmall, 9);
      expect(report.methods[key]!.energyInBox, key).toBeCloseTo(energy / 15, 4);
    }
  });

  test("the baselines: the centre point, and a uniform map scoring the boxes' share of the pictures", () => {
    let centreHits = 0;
    let share = 0;
    let small = 0;
    for (const row of images) {
      centreHits += Number(inside(row.width / 2, row.height / 2, row.boxes));
      let covered = 0;
      for (let y = 0; y < row.height; y++)
        for (let x = 0; x < row.width; x++) covered += Number(inside(x, y, row.boxes));
      share += covered / (row.width * row.height);
      small += Number(covered / (row.width * row.height) < 0.5);
    }
    expect(report.baseline.pointingGame).toBeCloseTo(centreHits / 15, 9);
    expect(report.uniformEnergyInBox).toBeCloseTo(share / 15, 9);
    expect(report.nSmall).toBe(small);
  });

  test('Grad-CAM of the logit at the last layer is CAM: the same maps, the same scores', () => {
    for (const row of images) {
      const cam = row.maps['cam@conv_pw_13_relu']!.heatmap!.data;
      const grad = row.maps['gradcam@conv_pw_13_relu']!.heatmap!.data;
      for (let i = 0; i < cam.length; i++) expect(grad[i]).toBeCloseTo(cam[i]!, 4);
    }
    const [cam, grad] = [report.methods['cam@conv_pw_13_relu']!, report.methods['gradcam@conv_pw_13_relu']!];
    expect(grad.pointingGame).toBe(cam.pointingGame);
    expect(grad.energyInBox).toBeCloseTo(cam.energyInBox, 5);
  });

  test('the default view is the registry’s, and beats a uniform map; LayerCAM has the most mass, the centre prior beats uniform', () => {
    const chosen = defaultView('mobilenet_v1_0.75_224');
    expect(report.defaultView).toBe(`${chosen.method}@${chosen.layer}`);
    const view = report.methods[report.defaultView!]!;
    expect(view.energyInBox).toBeGreaterThan(report.uniformEnergyInBox);
    // LayerCAM at conv_pw_9_relu localises best of all, which is why the default is chosen among
    // the maps that pass the sanity check only (LayerCAM fails it; sanity-gate.test.ts).
    const layercam = report.methods['layercam@conv_pw_9_relu']!;
    for (const key of Object.keys(report.methods).filter((k) => k !== 'layercam@conv_pw_9_relu'))
      expect(layercam.energyInBox, key).toBeGreaterThan(report.methods[key]!.energyInBox);
    expect(report.baseline.energyInBox).toBeGreaterThan(report.uniformEnergyInBox);
    // Inside the network LayerCAM localises where Grad-CAM++ does not (its weights cancel there).
    expect(report.methods['layercam@conv_pw_11_relu']!.pointingGame).toBeGreaterThan(
      report.methods['gradcam++@conv_pw_11_relu']!.pointingGame + 0.3,
    );
  });

  test('prints a table: the counts of the structured report, and the baseline row', async () => {
    const { out } = await run([
      '--images',
      VAL_BBOX,
      '--boxes',
      BOXES,
      '--method',
      'cam',
      '--steps',
      '0',
      '--random-seeds',
      '1',
    ]);
    const cam = report.methods['cam@conv_pw_13_relu']!;
    const count = (share: number, of: number): string => `${Math.round(share * of)}/${of}`;
    const row = out.split('\n').find((l) => l.startsWith('| CAM '))!;
    expect(row.split('|').map((c) => c.trim())).toEqual([
      '',
      'CAM',
      'conv_pw_13_relu',
      `${count(cam.pointingGame, 15)} (${(cam.pointingGame * 100).toFixed(1)}%)`,
      `${count(cam.pointingGameSmall, report.nSmall)} (${(cam.pointingGameSmall * 100).toFixed(1)}%)`,
      cam.energyInBox.toFixed(3),
      `${count(cam.localization, 15)} (${(cam.localization * 100).toFixed(1)}%)`,
      '–',
      '–',
      expect.stringMatching(/^\d+\.\d$/) as unknown as string,
      '',
    ]);
    expect(out).toMatch(
      new RegExp(`\\| centre prior +\\| \\(baseline\\) +\\| ${count(report.baseline.pointingGame, 15)} `),
    );
  });

  test('refuses a boxes file that is not one', async () => {
    await expect(run(['--images', VAL_BBOX, '--boxes', path.join(VAL_BBOX, 'labels.tsv')])).rejects.toThrow(
      /cannot be read as JSON/,
    );
    await expect(run(['--images', VAL_BBOX])).rejects.toThrow(/needs --images and --boxes/);
  });
});
