import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import type { Page } from '@playwright/test';
import { defaultView, findModel } from '../../models/registry.js';
import type { WhyCamStatus } from '../../src/app/automation.js';
import { photo, SHARED_MODELS } from '../helpers/shared.js';
import { chooseFile, expect, openPhoto, set, status, test, waitForStatus } from './fixtures.js';

// Networks beyond the two default MobileNets, in the app on WASM: a zoo model the server has
// (GoogLeNet, installed for the tests by playwright.config.ts), one it lacks (SqueezeNet 1.1), and
// the user's own Keras model opened from files. Loading 28 MB and compiling GoogLeNet on a busy
// 2-core machine takes long: the waits are generous, and they wait for the app, never for a time.

const GOOGLENET = 'googlenet';
const MISSING = 'squeezenet1.1';
const GOLDEN_RETRIEVER = 207;
/** The real MobileNet V1 0.75 files, opened as an own model (model.json and its shards, no metadata.json). */
const MOBILENET = path.join(SHARED_MODELS, 'mobilenet_v1_0.75_224');

/** Whether the app's server has a model's files (the build ships only the installed ones). */
async function served(page: Page, id: string): Promise<boolean> {
  const entry = findModel(id)!;
  const file = entry.format === 'caffe' ? Object.keys(entry.sha256)[0]! : 'model.json';
  return page.evaluate(async (url) => {
    const r = await fetch(url, { cache: 'no-store' });
    return r.ok && !(r.headers.get('content-type') ?? '').includes('text/html');
  }, `/models/${id}/${file}`);
}

/** The status once the photo's own result, from `model`, is shown. */
function photoExplainedBy(page: Page, model: string, what: string): Promise<WhyCamStatus> {
  return waitForStatus(
    page,
    (x) => x.ready && x.mode === 'image' && x.answers?.source === 'image' && x.answers.model === model,
    180_000,
    what,
  );
}

/** The own model's files: model.json and its weight shards, and a labels.txt of the ImageNet class names. */
function ownModelFiles(outputDir: string): { name: string; file: string }[] {
  const weights = (
    JSON.parse(fs.readFileSync(path.join(MOBILENET, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[] }[];
    }
  ).weightsManifest.flatMap((group) => group.paths);
  const labels = (JSON.parse(fs.readFileSync(path.join(MOBILENET, 'metadata.json'), 'utf8')) as { labels: string[] })
    .labels;
  fs.mkdirSync(outputDir, { recursive: true });
  const labelsTxt = path.join(outputDir, 'labels.txt');
  fs.writeFileSync(labelsTxt, `${labels.join('\n')}\n`);
  return [
    ...['model.json', ...weights].map((name) => ({ name, file: path.join(MOBILENET, name) })),
    { name: 'labels.txt', file: labelsTxt },
  ];
}

test('GoogLeNet, picked in the model menu, explains the photo; its layer menu is its own', async ({ page }) => {
  await page.goto('/?backend=wasm&camera=off');
  await waitForStatus(page, (x) => x.ready, 120_000, 'the default model');
  test.skip(!(await served(page, GOOGLENET)), 'GoogLeNet is not installed: npm run models -- --model googlenet');
  await openPhoto(page, photo('sherlock_golden_retriever.jpg'));
  await photoExplainedBy(page, 'mobilenet_v1_0.75_224', 'the photo explained by the default model');

  const menu = page.locator('whycam-controls').locator('#model');
  await expect(menu.locator('optgroup option[value="googlenet"]')).toHaveCount(1);
  await menu.selectOption(GOOGLENET);
  // MobileNet's layer is not GoogLeNet's: the view becomes GoogLeNet's own default (the registry's).
  const s = await photoExplainedBy(page, GOOGLENET, 'the photo explained by GoogLeNet');
  expect(s.backend).toBe('wasm');
  expect(s.modelName).toBe(findModel(GOOGLENET)!.displayName);
  expect(s.layer).toBe(defaultView(GOOGLENET).layer);
  expect(s.predictions[0]).toMatchObject({ classIndex: GOLDEN_RETRIEVER, label: 'golden retriever' });
  // The layer menu is GoogLeNet's now, not MobileNet's.
  const layerMenu = page.locator('whycam-controls').locator('#layer');
  const names = await layerMenu
    .locator('option')
    .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
  expect(names).toEqual(expect.arrayContaining(['inception_5b/output', 'inception_4e/output', 'inception_3a/output']));
  expect(names).not.toContain('conv_pw_11_relu');
  expect(s.layers.map((l) => l.name)).toEqual(expect.arrayContaining(['inception_5b/output', 'inception_4e/output']));
  // Its last inception block (MATLAB's gradCAM layer), picked in the menu, explains the same photo at 7×7.
  await layerMenu.selectOption('inception_5b/output');
  const last = await waitForStatus(
    page,
    (x) => x.layer === 'inception_5b/output' && x.answers?.model === GOOGLENET,
    120_000,
    'inception_5b/output',
  );
  expect([last.heatmap!.width, last.heatmap!.height]).toEqual([7, 7]);
  expect(last.predictions[0]).toMatchObject({ classIndex: GOLDEN_RETRIEVER, label: 'golden retriever' });
  expect(last.model).toBe(GOOGLENET);
});

test('a model the server lacks: the notice names the problem and the command, and the model in use stays', async ({
  page,
}) => {
  await page.goto('/?backend=wasm');
  const before = await waitForStatus(page, (x) => x.ready && x.frames > 2, 120_000, 'the first heatmaps');
  test.skip(await served(page, MISSING), `${MISSING} is installed on this server, so it cannot be missing`);
  await page.locator('whycam-controls').locator('#model').selectOption(MISSING);
  const notice = page.locator(`whycam-notice[data-topic="model-switch"]`);
  await expect(notice).toContainText(`/models/${MISSING}/`, { timeout: 120_000 });
  await expect(notice).toContainText(`npm run models -- --model ${MISSING}`);
  // The worker said `ready` with the model it kept: the page uses it, and results keep coming.
  const kept = await waitForStatus(page, (x) => x.ready && x.model === before.model, 60_000, 'the model kept');
  expect(kept.settings.model).toBe(before.model);
  const after = await waitForStatus(
    page,
    (x) => x.frames > kept.frames + 3 && x.answers?.model === before.model,
    60_000,
    'results after the failed switch',
  );
  expect(after.model).toBe(before.model);
  expect(after.workerRestarts).toBe(0);
  await expect(page.locator('whycam-controls').locator('#model')).toHaveValue(before.model);
  // The next model asked for gets its own answer: the notice goes.
  await set(page, { model: 'mobilenet_v1_0.25_224' });
  await waitForStatus(page, (x) => x.ready && x.model === 'mobilenet_v1_0.25_224', 120_000, 'the fast model');
  await expect(notice).toHaveCount(0);
});

test('an own Keras model (model.json, shards, labels.txt) opens with the normalisation given, and keeps it', async ({
  page,
}, info) => {
  await page.goto('/?backend=wasm&camera=off');
  await waitForStatus(page, (x) => x.ready, 120_000, 'the default model');
  await openPhoto(page, photo('sherlock_golden_retriever.jpg'));
  const registered = await photoExplainedBy(
    page,
    'mobilenet_v1_0.75_224',
    'the photo explained by the registered model',
  );

  // The files reach the page as a user's picked files would: through a file input.
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    input.id = 'own-model';
    document.body.append(input);
  });
  await page.setInputFiles(
    '#own-model',
    ownModelFiles(info.outputDir).map((f) => f.file),
  );
  const opened = await page.evaluate(() => {
    const files = [...document.querySelector<HTMLInputElement>('#own-model')!.files!];
    return window.whycam!.openModel(files, { normalize: 'minus-one-to-one' });
  });
  expect(opened.model).toBe('stored:own model');
  expect(opened.labels).toHaveLength(1000);
  expect(opened.summary.join('\n')).toMatch(/Labels: the 1000 lines of labels\.txt/);
  expect(opened.summary.join('\n')).toMatch(/Input: RGB scaled to \[−1, 1\]/);

  const own = await photoExplainedBy(page, 'stored:own model', 'the photo explained by the own model');
  expect(own.modelOrigin).toBe('keras');
  expect(own.modelName).toBe('own model');
  expect(own.modelSummary).toEqual(opened.summary);
  expect(own.modelSummary[0]).toMatch(/^Recognised: a Keras model/);
  await expect(page.locator('whycam-notice[data-topic="model-files"]')).toContainText('Labels: the 1000 lines');
  // The same network as the registered model, read the same way: the same top-1, the same score.
  expect(own.predictions[0]!.classIndex).toBe(registered.predictions[0]!.classIndex);
  expect(own.predictions[0]!.label).toBe('golden retriever');
  expect(Math.abs(own.predictions[0]!.score - registered.predictions[0]!.score)).toBeLessThan(0.01);

  // A restarted worker reopens the kept model with the normalisation it was opened with, not an assumed one.
  await page.evaluate(() => window.whycam!.drill('crash'));
  const reopened = await waitForStatus(
    page,
    (x) => x.workerRestarts === 1 && x.ready && x.model === 'stored:own model',
    180_000,
    'the own model reopened after the restart',
  );
  expect(reopened.modelSummary).toEqual(opened.summary);
  expect(reopened.modelSummary.join('\n')).not.toMatch(/Assumed: the input/);
});

test('an own Keras model in a zip, through the teach panel: the summary says what was assumed', async ({ page }) => {
  await page.goto('/?backend=wasm&camera=off');
  await waitForStatus(page, (x) => x.ready, 120_000, 'the default model');
  const files = ownModelFiles(test.info().outputDir).filter((f) => f.name !== 'labels.txt');
  const zip = zipSync(Object.fromEntries(files.map((f) => [f.name, fs.readFileSync(f.file)])), { level: 0 });
  await chooseFile(page, () => page.locator('whycam-teach-panel [data-teach="open-files"]').click(), [
    { name: 'my mobilenet.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) },
  ]);
  const s = await waitForStatus(
    page,
    (x) => x.ready && x.model === 'stored:my mobilenet',
    180_000,
    'the zipped own model in use',
  );
  expect(s.modelOrigin).toBe('keras');
  expect(s.modelName).toBe('my mobilenet');
  // No labels.txt and no metadata.json: classes are numbered; the normalisation is assumed, and both are said.
  expect(s.labels.slice(0, 2)).toEqual(['class 0', 'class 1']);
  expect(s.modelSummary.join('\n')).toMatch(/Assumed: no labels/);
  expect(s.modelSummary.join('\n')).toMatch(/Assumed: the input is RGB scaled to \[−1, 1\]/);
  const notice = page.locator('whycam-notice[data-topic="model-files"]');
  await expect(notice).toHaveAttribute('kind', 'info');
  await expect(notice).toContainText('Assumed: the input is');
  await expect(page.locator('whycam-teach-panel [data-teach="model-summary"]')).toHaveCount(s.modelSummary.length);
  await expect(page.locator('whycam-teach-panel li[data-stored="my mobilenet"]')).toContainText('1000 classes');
  expect((await status(page)).error).toBeNull();
});
