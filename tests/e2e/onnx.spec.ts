import fs from 'node:fs';
import path from 'node:path';
import { defaultView, findModel } from '../../models/registry.js';
import { photo, SHARED_MODELS } from '../helpers/shared.js';
import { chooseFile, expect, openPhoto, set, test, waitForStatus } from './fixtures.js';

// The ONNX MobileNet V2 (int8 weights, run in float) in the app on WASM: from the zoo (installed
// for the tests by playwright.config.ts) and as the user's own .onnx file, live from the fake
// camera (a Pomeranian on a sofa), with the methods, side by side, and a still photo.

const ID = 'mobilenetv2';
const FILE = path.join(SHARED_MODELS, 'mobilenetv2-12-int8_onnx', 'mobilenetv2-12-int8.onnx');
const POMERANIAN = 259;
const GOLDEN_RETRIEVER = 207;

test('MobileNet V2 from the zoo explains the camera live: its own layers, every method, side by side, a photo', async ({
  page,
}) => {
  await page.goto('/?backend=wasm');
  await waitForStatus(page, (x) => x.ready && x.frames > 2, 120_000, 'the default model live');
  const served = await page.evaluate(
    async (url) => {
      const r = await fetch(url, { cache: 'no-store' });
      return r.ok && !(r.headers.get('content-type') ?? '').includes('text/html');
    },
    `/models/${ID}/${Object.keys(findModel(ID)!.sha256)[0]}`,
  );
  test.skip(!served, `${ID} is not installed: npm run models -- --model ${ID}`);

  await page.locator('whycam-controls').locator('#model').selectOption(ID);
  const live = await waitForStatus(
    page,
    (x) => x.ready && x.model === ID && x.answers?.source === 'camera' && x.answers.model === ID && x.frames > 0,
    180_000,
    'the camera explained by MobileNet V2',
  );
  const start = live.frames;
  const more = await waitForStatus(
    page,
    (x) => x.frames >= start + 5 && x.answers?.model === ID,
    120_000,
    '5 more heatmaps',
  );
  expect(more.modelName).toBe(findModel(ID)!.displayName);
  expect(more.method).toBe(defaultView(ID).method);
  // The registry's default view (the README's rule): HiResCAM at the 14×14 Conv_73.
  expect(more.layer).toBe('Conv_73');
  expect([more.heatmap!.width, more.heatmap!.height]).toEqual([14, 14]);
  expect(more.predictions[0]!.classIndex).toBe(POMERANIAN);
  // Its layer menu is its own: the 14×14 and 28×28 blocks by their ONNX node names.
  const sizes = new Map(more.layers.map((l) => [l.name, l.width]));
  expect(sizes.get('Conv_95')).toBe(7);
  expect(sizes.get('Conv_60')).toBe(14);
  expect(sizes.get('Add_26')).toBe(28);
  expect(sizes.has('conv_pw_11_relu')).toBe(false);

  for (const method of ['cam', 'gradcam', 'gradcam++', 'layercam', 'hirescam'] as const) {
    await set(page, { method });
    const s = await waitForStatus(
      page,
      (x) => x.method === method && x.answers?.model === ID && x.answers.source === 'camera',
      60_000,
      `${method} live`,
    );
    expect(s.predictions[0]!.classIndex).toBe(POMERANIAN);
  }
  await set(page, { method: 'gradcam', layer: 'Conv_60', compare: { method: 'cam' } });
  const both = await waitForStatus(page, (x) => x.views !== null && x.layer === 'Conv_60', 60_000, 'side by side');
  expect(both.views!.map((v) => [v.method, v.layer, v.heatmap.width])).toEqual([
    ['gradcam', 'Conv_60', 14],
    ['cam', 'Conv_95', 7],
  ]);
  await set(page, { compare: null });

  await openPhoto(page, photo('sherlock_golden_retriever.jpg'));
  const still = await waitForStatus(
    page,
    (x) => x.mode === 'image' && x.answers?.source === 'image' && x.answers.model === ID,
    120_000,
    'the photo',
  );
  expect(still.predictions[0]).toMatchObject({ classIndex: GOLDEN_RETRIEVER, label: 'golden retriever' });
});

test('an own .onnx file, picked in the teach panel, explains the camera live; the summary says what was assumed', async ({
  page,
}) => {
  await page.goto('/?backend=wasm');
  await waitForStatus(page, (x) => x.ready && x.frames > 2, 120_000, 'the default model live');
  await chooseFile(page, () => page.locator('whycam-teach-panel [data-teach="open-files"]').click(), [
    { name: 'mobilenetv2-12-int8.onnx', mimeType: 'application/octet-stream', buffer: fs.readFileSync(FILE) },
  ]);
  const model = 'stored:mobilenetv2-12-int8';
  const live = await waitForStatus(
    page,
    (x) => x.ready && x.model === model && x.answers?.source === 'camera' && x.answers.model === model,
    120_000,
    'the camera explained by the own ONNX model',
  );
  expect(live.modelOrigin).toBe('onnx');
  expect(live.labels).toHaveLength(1000);
  expect(live.predictions[0]!.classIndex).toBe(POMERANIAN);
  const summary = live.modelSummary.join('\n');
  expect(summary).toMatch(/^Recognised: an ONNX model/);
  expect(summary).toMatch(/Labels: ImageNet's 1000 classes/);
  expect(summary).toMatch(/Assumed: the input is RGB in \[0, 1\] minus the ImageNet mean/);
  expect(summary).toMatch(/CAM applies at Conv_95/);
  await expect(page.locator('whycam-notice[data-topic="model-files"]')).toContainText('Recognised: an ONNX model');
  await expect(page.locator('whycam-teach-panel li[data-stored="mobilenetv2-12-int8"]')).toContainText('1000 classes');
});
