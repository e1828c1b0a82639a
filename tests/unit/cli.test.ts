import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExplainRecord } from '../../src/cli/explain-command.js';
import { readImage } from '../../src/node/image-io.js';
import { whycam } from '../helpers/cli.js';
import { encodeWebp } from '../helpers/webp.js';
import { photo, SHARED_MODELS } from '../helpers/shared.js';

// The CLI end to end, as built by `npm run build:node`, reading the models from the shared mirror.
const env = { WHYCAM_MODELS_DIR: SHARED_MODELS };
const SHERLOCK = photo('sherlock_golden_retriever.jpg');

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'whycam-cli-'));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

describe('whycam explain', () => {
  test('writes a titled overlay PNG of sherlock.jpg with the dog highlighted', async () => {
    const out = path.join(tmp, 'out');
    const r = await whycam(['explain', SHERLOCK, '--out', out], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/golden retriever \(0\.\d\d\) — Grad-CAM at conv_pw_13_relu \(7×7\)/);
    const png = PNG.sync.read(await fs.readFile(path.join(out, 'sherlock_golden_retriever_gradcam.png')));
    expect(png.width).toBe(960);
    const band = png.height - 640;
    expect(band).toBeGreaterThan(40);
    const at = (x: number, y: number) =>
      Array.from(png.data.subarray(((y + band) * 960 + x) * 4, ((y + band) * 960 + x) * 4 + 3));
    // jet over the dog's head is warm (red beats blue); over the floor in the bottom-left corner it is cold.
    const [hr, , hb] = at(600, 230);
    const [cr, , cb] = at(20, 600);
    expect(hr!).toBeGreaterThan(hb! + 60);
    expect(cb!).toBeGreaterThan(cr!);
    // The title band is white with dark text.
    expect(at(2, -band + 2)).toEqual([255, 255, 255]);
  });

  test('--json prints one object per image, for every image in a folder', async () => {
    const folder = path.join(tmp, 'photos');
    await fs.mkdir(folder);
    await fs.copyFile(SHERLOCK, path.join(folder, 'a.jpg'));
    await fs.copyFile(photo('goldfish.jpg'), path.join(folder, 'b.jpg'));
    const r = await whycam(
      ['explain', folder, '--json', '--method', 'layercam', '--layer', 'conv_pw_11_relu', '--top', '3'],
      env,
    );
    expect(r.code).toBe(0);
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ExplainRecord);
    expect(records.map((x) => [path.basename(x.file), x.predictions[0]!.label])).toEqual([
      ['a.jpg', 'golden retriever'],
      ['b.jpg', 'goldfish'],
    ]);
    for (const rec of records) {
      expect(rec).toMatchObject({ method: 'layercam', reduction: 'logit', layer: 'conv_pw_11_relu', output: null });
      expect(rec.predictions).toHaveLength(3);
      expect(rec.heatmap.width * rec.heatmap.height).toBe(196);
      expect(rec.heatmap.data).toHaveLength(196);
      expect(Math.max(...rec.heatmap.data)).toBe(1);
      expect(Object.keys(rec.timings)).toEqual(['preprocessMs', 'forwardMs', 'heatmapMs', 'readbackMs', 'totalMs']);
    }
  });

  test('a pinned class by label is explained', async () => {
    const r = await whycam(['explain', SHERLOCK, '--json', '--class', 'Labrador retriever'], env);
    expect((JSON.parse(r.stdout) as ExplainRecord).target).toMatchObject({
      classIndex: 208,
      label: 'Labrador retriever',
    });
  });
  test('--contrast explains why the class and not the other: the dog against the cat, the cat against the dog', async () => {
    const picture = photo('gradcam_cat_dog.png');
    const dog = await whycam(['explain', picture, '--json', '--class', 'bull mastiff', '--contrast', 'tiger cat'], env);
    const cat = await whycam(['explain', picture, '--json', '--class', '282', '--contrast', '243'], env);
    const [d, c] = [dog, cat].map((r) => JSON.parse(r.stdout) as ExplainRecord);
    expect(d!.target).toMatchObject({ classIndex: 243, label: 'bull mastiff' });
    expect(d!.contrast).toMatchObject({ classIndex: 282, label: 'tiger cat' });
    expect(c!.contrast).toMatchObject({ classIndex: 243 });
    // The dog is the top half of the picture, the cat the bottom: each map's mass sits on its own animal.
    const topShare = (h: ExplainRecord['heatmap']): number => {
      const total = h.data.reduce((a, v) => a + v, 0);
      return h.data.slice(0, (h.height / 2) * h.width).reduce((a, v) => a + v, 0) / total;
    };
    expect(topShare(d!.heatmap)).toBeGreaterThan(0.6);
    expect(topShare(c!.heatmap)).toBeLessThan(0.4);
    const text = await whycam(['explain', picture, '--class', 'bull mastiff', '--contrast', 'tiger cat'], env);
    expect(text.stdout).toMatch(/bull mastiff \(0\.\d\d\), not tiger cat \(0\.\d\d\)/);
  });
});

describe('bad input: a clear error, exit code ≠ 0, nothing half-written', () => {
  test.each([
    [['--class', 'golden retreiver'], /Unknown class label "golden retreiver"[\s\S]*Did you mean/],
    [
      ['--layer', 'conv_pw_99'],
      /no layer named "conv_pw_99"[\s\S]*Valid feature layers: auto \(= conv_pw_13_relu\), conv1 \(112×112\)/,
    ],
    [
      ['--layer', 'global_average_pooling2d_1'],
      /cannot serve as a feature layer: its output \[1, 768\] has no spatial map/,
    ],
    [['--method', 'saliency'], /--method saliency is not valid[\s\S]*cam, gradcam, gradcam\+\+, layercam/],
    [['--alpha', '2'], /--alpha 2 is not valid[\s\S]*from 0 to 1/],
    [['--model', 'resnet'], /Unknown model "resnet"[\s\S]*mobilenet_v1_0\.75_224/],
    [['--bogus'], /Unknown option '--bogus'[\s\S]*Usage: whycam explain/],
    [['--contrast', 'golden retreiver'], /Unknown class label "golden retreiver"/],
    [
      ['--method', 'occlusion', '--contrast', '208'],
      /--contrast works with cam, gradcam, gradcam\+\+, layercam, hirescam only/,
    ],
  ])('%s', async (options, message) => {
    const out = await fs.mkdtemp(path.join(tmp, 'refused-'));
    const r = await whycam(['explain', SHERLOCK, '--out', out, ...options], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await fs.readdir(out)).toEqual([]);
  });

  test('an unreadable image fails alone; the others are still explained', async () => {
    const out = path.join(tmp, 'mixed');
    const broken = path.join(tmp, 'broken.jpg');
    await fs.writeFile(broken, 'not a picture');
    const r = await whycam(['explain', broken, SHERLOCK, '--out', out], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.jpg is not a JPEG, PNG or WebP picture/);
    expect(await fs.readdir(out)).toEqual(['sherlock_golden_retriever_gradcam.png']);
  });

  test('a single picture that cannot be read exits 2, naming what is wrong with it', async () => {
    const empty = path.join(tmp, 'empty.jpg');
    await fs.writeFile(empty, '');
    const text = path.join(tmp, 'notes.png');
    await fs.writeFile(text, 'not a picture at all');
    for (const [file, message] of [
      [empty, /empty\.jpg is empty \(0 bytes\)/],
      [text, /notes\.png is not a JPEG, PNG or WebP picture/],
    ] as const) {
      const r = await whycam(['explain', file], env);
      expect(r.code, file).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/reads \.jpg\/\.jpeg and \.png/);
    }
    const many = await whycam(['explain', empty, text, '--json'], env);
    expect(many.code).toBe(2); // every picture failed: bad input
  });

  test('a WebP photo is explained like its JPEG', async () => {
    const webp = path.join(tmp, 'sherlock.webp');
    await fs.writeFile(webp, await encodeWebp(await readImage(SHERLOCK), { quality: 90 }));
    const r = await whycam(['explain', webp, '--json'], env);
    expect(r.code).toBe(0);
    const record = JSON.parse(r.stdout) as ExplainRecord;
    expect(record.target.label).toBe('golden retriever');
    expect(record.region).toEqual({ x: 0, y: 0, width: 960, height: 640 });
  });

  test('a missing image or model is refused before any work', async () => {
    const missing = await whycam(['explain', path.join(tmp, 'nope.jpg')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.jpg does not exist/);
    const noModels = await whycam(['explain', SHERLOCK], { WHYCAM_MODELS_DIR: path.join(tmp, 'empty') });
    expect(noModels.code).toBe(2);
    expect(noModels.stderr).toMatch(/model\.json is missing[\s\S]*Run: npm run models/);
  });
});
