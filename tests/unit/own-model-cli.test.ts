import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { IMAGENET_LABELS } from '../../src/explain/network/labels.js';
import { whycam } from '../helpers/cli.js';
import { photo, SHARED_MODELS } from '../helpers/shared.js';

// A user's own Keras model through the CLI, as `tensorflowjs_converter` leaves it: model.json and
// weight files, no metadata.json. Made here from the real MobileNet V1 0.75 files, so the registered
// model is the reference: the same network, opened as "your own model", must classify alike.

let dir: string;
let labelsFile: string;
const PHOTO = photo('sherlock_golden_retriever.jpg');

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'whycam-own-'));
  const source = path.join(SHARED_MODELS, 'mobilenet_v1_0.75_224');
  for (const name of await fs.readdir(source)) {
    if (name !== 'metadata.json') await fs.copyFile(path.join(source, name), path.join(dir, name));
  }
  labelsFile = path.join(dir, '..', `${path.basename(dir)}-labels.txt`);
  await fs.writeFile(labelsFile, `${IMAGENET_LABELS.long.join('\n')}\n`);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rm(labelsFile, { force: true });
});

interface Record {
  predictions: { classIndex: number; label: string; score: number }[];
  layer: string;
}

describe('whycam explain --model DIR (your own Keras model)', () => {
  test('with --labels and --normalize it classifies as the registered model does, and says what it recognised', async () => {
    const env = { WHYCAM_MODELS_DIR: SHARED_MODELS };
    const own = await whycam(
      ['explain', PHOTO, '--model', dir, '--labels', labelsFile, '--normalize', 'minus-one-to-one', '--json'],
      env,
    );
    expect(own.code, own.stderr).toBe(0);
    const registered = await whycam(['explain', PHOTO, '--model', 'mobilenet_v1_0.75_224', '--json'], env);
    expect(registered.code, registered.stderr).toBe(0);
    const a = JSON.parse(own.stdout) as Record;
    const b = JSON.parse(registered.stdout) as Record;
    expect(a.predictions.map((p) => p.label)).toEqual(b.predictions.map((p) => p.label));
    for (const [i, p] of a.predictions.entries()) expect(p.score).toBeCloseTo(b.predictions[i]!.score, 5);
    expect(a.layer).toBe('conv_pw_13_relu');
    expect(own.stderr).toMatch(
      /Recognised: a Keras model of \d+ layers, input 224×224, 1000 classes; the feature layer chosen is conv_pw_13_relu \(7×7\); CAM applies at conv_pw_13_relu/,
    );
    expect(own.stderr).toMatch(/Input: RGB scaled to \[−1, 1\]/);
  }, 120_000);

  test('without labels or normalisation it still opens: classes are numbered and the assumptions are said', async () => {
    const r = await whycam(['explain', PHOTO, '--model', dir, '--json'], { WHYCAM_MODELS_DIR: SHARED_MODELS });
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as Record;
    expect(record.predictions[0]!.label).toBe('class 207');
    expect(r.stderr).toMatch(/Assumed: no labels/);
    expect(r.stderr).toMatch(/Assumed: the input is RGB scaled to \[−1, 1\]/);
  }, 120_000);

  test('a wrong normalisation name or a labels file of the wrong length is refused by name', async () => {
    const bad = await whycam(['explain', PHOTO, '--model', dir, '--normalize', 'bgr'], {
      WHYCAM_MODELS_DIR: SHARED_MODELS,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown normalisation "bgr"/);
    const short = path.join(dir, 'short.txt');
    await fs.writeFile(short, 'cat\ndog\n');
    const wrong = await whycam(['explain', PHOTO, '--model', dir, '--labels', short], {
      WHYCAM_MODELS_DIR: SHARED_MODELS,
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/scores 1000 classes but 2 labels were given/);
  }, 120_000);
});

describe('whycam explain --model file.onnx (your own ONNX model)', () => {
  const ONNX = path.join(SHARED_MODELS, 'mobilenetv2-12-int8_onnx', 'mobilenetv2-12-int8.onnx');

  test('the seed’s photo is a golden retriever with the map on the dog; the labels and the input are said', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'whycam-onnx-'));
    const r = await whycam(['explain', PHOTO, '--model', ONNX, '--json', '--out', out], {
      WHYCAM_MODELS_DIR: SHARED_MODELS,
    });
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as Record & { heatmap: { width: number; height: number; data: number[] } };
    expect(record.predictions[0]!.label).toBe('golden retriever');
    expect(record.layer).toBe('Conv_95');
    // The photo's dog fills its middle and right; the hottest cell of the 7×7 map lies in its head (hand-measured box).
    const { width, data } = record.heatmap;
    const hottest = data.indexOf(Math.max(...data));
    const [x, y] = [hottest % width, Math.floor(hottest / width)];
    expect([x >= 2 && x <= 5, y >= 1 && y <= 4], `hottest cell (${x}, ${y})`).toEqual([true, true]);
    expect(r.stderr).toMatch(/Recognised: an ONNX model \(written by onnx\.quantize [\d.]+\) of \d+ operations/);
    expect(r.stderr).toMatch(
      /Labels: ImageNet's 1000 classes \(the model scores 1000 classes and no labels were given\)/,
    );
    expect(r.stderr).toMatch(/Assumed: the input is RGB in \[0, 1\] minus the ImageNet mean/);
    expect((await fs.readdir(out)).some((f) => f.endsWith('.png'))).toBe(true);
    await fs.rm(out, { recursive: true, force: true });
  }, 120_000);

  test('--labels must fit the model’s outputs, and the message says how many', async () => {
    const short = `${labelsFile}.10`;
    await fs.writeFile(short, `${IMAGENET_LABELS.long.slice(0, 10).join('\n')}\n`);
    const r = await whycam(['explain', PHOTO, '--model', ONNX, '--labels', short], {
      WHYCAM_MODELS_DIR: SHARED_MODELS,
    });
    await fs.rm(short, { force: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/scores 1000 classes but 10 labels were given/);
  }, 60_000);
});
