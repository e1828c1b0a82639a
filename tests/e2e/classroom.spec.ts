import type { Page } from '@playwright/test';
import { photo } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';
import { expect, openPhoto, set, status, test, waitForStatus } from './fixtures.js';

// The classroom features on WASM with the Pomeranian clip as the camera: the heads-up line on the
// picture, presentation mode, two views side by side, and "why A and not B".

const BULL_MASTIFF = 243;
const TIGER_CAT = 282;

test.beforeEach(async ({ page }) => {
  await page.goto('/?backend=wasm');
});

const hudLine = (page: Page) => page.locator('whycam-hud-line');
const aside = (page: Page) => page.locator('whycam-app aside');
/** Where the view sits across and how big it is (a notice, e.g. the slow-machine advice, may push it down). */
const size = (b: { x: number; width: number; height: number } | null): string =>
  b ? `${b.x} ${b.width}×${b.height}` : 'none';

test('the heads-up line on the picture shows the rate, the median latency, the backend and the map, and can be hidden', async ({
  page,
}) => {
  await waitForStatus(page, (x) => x.frames > 5 && x.latencyMs.p50 !== null, 60_000, 'live heatmaps');
  const line = hudLine(page);
  await expect(line).toBeVisible();
  await expect(line.locator('[data-hud-line=rate]')).toHaveText(/^\d+\.\d$/);
  await expect(line.locator('[data-hud-line=latency]')).toHaveText(/^\d+$/);
  await expect(line.locator('[data-hud-line=backend]')).toHaveText('wasm');
  await expect(line.locator('[data-hud-line=shown]')).toHaveText('HiResCAM · conv_pw_11_relu');
  // It sits on the picture: inside the live view's box.
  const view = (await page.locator('whycam-live-view').first().boundingBox())!;
  const box = (await line.boundingBox())!;
  expect(box.y + box.height).toBeLessThanOrEqual(view.y + view.height + 1);
  expect(box.y).toBeGreaterThan(view.y);
  await page.keyboard.press('h');
  await expect(line).toHaveCount(0);
  expect((await status(page)).hud).toBe(false);
  await set(page, { hud: true });
  await expect(line).toBeVisible();
  await page.locator('whycam-controls [data-control=hud]').click();
  await expect(line).toHaveCount(0);
});

test('presentation mode fills the screen, hides the controls until the pointer moves, keeps every key, and leaving restores the layout', async ({
  page,
}) => {
  await waitForStatus(page, (x) => x.frames > 2, 60_000, 'live heatmaps');
  const view = page.locator('whycam-live-view').first();
  const before = (await view.boundingBox())!;
  await expect(page.locator('whycam-header')).toBeVisible();

  // With the key (a user gesture), the browser is asked for fullscreen; whatever it answers, g enters and g leaves.
  await page.keyboard.press('g');
  await waitForStatus(page, (x) => x.presentation, 5_000, 'presentation on');
  await expect(page.locator('whycam-header')).toBeHidden();
  await page.keyboard.press('g');
  await waitForStatus(page, (x) => !x.presentation && !x.fullscreen, 5_000, 'presentation off');
  expect(await page.evaluate(() => document.fullscreenElement)).toBeNull();
  await expect.poll(async () => size(await view.boundingBox())).toBe(size(before));

  // Where the browser refuses fullscreen (no user gesture, an iframe, iOS), the page fills the window instead.
  await page.evaluate(() => {
    Element.prototype.requestFullscreen = () => Promise.reject(new TypeError('refused'));
  });
  await set(page, { presentation: true });
  await waitForStatus(page, (x) => x.presentation && !x.fullscreen, 5_000, 'presentation in the window');
  await expect(page.locator('whycam-header')).toBeHidden();
  await expect.poll(async () => (await view.boundingBox())!.width).toBeGreaterThan(1270);
  const full = (await view.boundingBox())!;
  expect(full.x).toBeLessThan(1);
  // The picture (16:9 in a 1280×800 window) is centred vertically.
  expect(Math.abs(full.y + full.height / 2 - 400)).toBeLessThan(2);
  const labelSize = await view.locator('.label').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  expect(labelSize).toBeGreaterThan(30);

  // The controls go once the pointer rests, and come back when it moves.
  await expect(page.locator('whycam-app')).toHaveAttribute('idle', '', { timeout: 10_000 });
  await expect(aside(page)).toHaveCSS('opacity', '0');
  await page.mouse.move(600, 300);
  await page.mouse.move(640, 320);
  await expect(aside(page)).toHaveCSS('opacity', '1');

  // Every shortcut keeps working: CAM, the HUD, side by side.
  await page.keyboard.press('c');
  await waitForStatus(page, (x) => x.method === 'cam', 10_000, 'CAM');
  await page.keyboard.press('h');
  await expect(hudLine(page)).toHaveCount(0);
  await page.keyboard.press('h');
  await page.keyboard.press('b');
  await waitForStatus(page, (x) => x.views !== null, 20_000, 'two views');
  await page.keyboard.press('b');
  await page.keyboard.press('c');

  // Escape leaves it, and the layout is as it was.
  await page.keyboard.press('Escape');
  await waitForStatus(
    page,
    (x) => !x.presentation && x.method === 'hirescam' && x.views === null,
    10_000,
    'presentation off',
  );
  await expect(page.locator('whycam-header')).toBeVisible();
  await expect(aside(page)).toHaveCSS('opacity', '1');
  await expect.poll(async () => size(await view.boundingBox())).toBe(size(before));
});

test('side by side: CAM next to the default view, and 7×7 next to 14×14, from the same frame, each labelled', async ({
  page,
}) => {
  await waitForStatus(page, (x) => x.frames > 2, 60_000, 'live heatmaps');
  await set(page, { compare: { method: 'cam' } });
  let s = await waitForStatus(page, (x) => x.views !== null, 20_000, 'two views');
  expect(s.compare).toEqual({ method: 'cam' });
  const [first, second] = s.views!;
  expect(first).toMatchObject({ method: 'hirescam', layer: 'conv_pw_11_relu', heatmap: { width: 14, height: 14 } });
  expect(second).toMatchObject({ method: 'cam', layer: 'conv_pw_13_relu', heatmap: { width: 7, height: 7 } });
  // One frame, one forward pass: both views explain the same class of the same prediction.
  expect(second!.classIndex).toBe(first!.classIndex);
  const views = page.locator('whycam-live-view');
  await expect(views).toHaveCount(2);
  await expect(views.nth(0).locator('.label')).toContainText('HiResCAM · conv_pw_11_relu');
  await expect(views.nth(1).locator('.label')).toContainText('CAM · conv_pw_13_relu');
  await expect(hudLine(page).locator('[data-hud-line=shown]')).toHaveText(
    'HiResCAM · conv_pw_11_relu | CAM · conv_pw_13_relu',
  );
  const a = (await views.nth(0).boundingBox())!;
  const b = (await views.nth(1).boundingBox())!;
  expect(b.x).toBeGreaterThan(a.x + a.width - 1);
  expect(Math.abs(a.width - b.width)).toBeLessThan(2);

  // The menu: the same method at the 7×7 and the 14×14 layer.
  await page.locator('whycam-controls #compare').selectOption('layer');
  s = await waitForStatus(page, (x) => x.views?.[1]?.method === 'hirescam', 20_000, 'layer vs layer');
  expect(s.views!.map((v) => [v.method, v.layer, v.heatmap.width])).toEqual([
    ['hirescam', 'conv_pw_11_relu', 14],
    ['hirescam', 'conv_pw_13_relu', 7],
  ]);
  await expect(views.nth(1).locator('.label')).toContainText('HiResCAM · conv_pw_13_relu');

  // Class against class: the runner-up prediction on the right.
  await page.locator('whycam-controls #compare').selectOption('class');
  s = await waitForStatus(
    page,
    (x) => x.views !== null && x.views[1]!.classIndex !== x.views[0]!.classIndex,
    20_000,
    'class vs class',
  );
  expect(s.views![1]!.layer).toBe('conv_pw_11_relu');
  expect(maxAbsDiff(s.views![0]!.heatmap.data, s.views![1]!.heatmap.data)).toBeGreaterThan(0.05);

  await page.locator('whycam-controls #compare').selectOption('off');
  await waitForStatus(page, (x) => x.views === null && x.compare === null, 10_000, 'one view');
  await expect(views).toHaveCount(1);
});

test('"why A and not B": picking a second class from the predictions changes the map, and the label says "not B"', async ({
  page,
}) => {
  await waitForStatus(page, (x) => x.ready, 60_000, 'the worker');
  await openPhoto(page, photo('gradcam_cat_dog.png'));
  await set(page, { classIndex: BULL_MASTIFF, method: 'gradcam', layer: 'conv_pw_13_relu' });
  const plain = await waitForStatus(
    page,
    (x) => x.mode === 'image' && x.method === 'gradcam' && x.target?.classIndex === BULL_MASTIFF && x.contrast === null,
    30_000,
    'bull mastiff',
  );
  const cat = page.locator(`whycam-predictions button.not[data-contrast="${TIGER_CAT}"]`);
  await cat.click();
  const contrast = await waitForStatus(page, (x) => x.contrast?.classIndex === TIGER_CAT, 20_000, 'the contrast');
  expect(contrast.contrastClass).toBe(TIGER_CAT);
  expect(maxAbsDiff(plain.heatmap!.data, contrast.heatmap!.data)).toBeGreaterThan(0.05);
  await expect(page.locator('whycam-live-view .label')).toHaveText('bull mastiff, not tiger cat');
  await expect(cat).toHaveAttribute('aria-pressed', 'true');
  // Through the API, the other way round: the cat, not the dog.
  await set(page, { classIndex: TIGER_CAT, contrastClass: BULL_MASTIFF });
  await waitForStatus(
    page,
    (x) => x.target?.classIndex === TIGER_CAT && x.contrast?.classIndex === BULL_MASTIFF,
    20_000,
    'cat, not dog',
  );
  await expect(page.locator('whycam-live-view .label')).toHaveText('tiger cat, not bull mastiff');
  await set(page, { contrastClass: null });
  await waitForStatus(page, (x) => x.contrast === null && x.contrastClass === null, 20_000, 'no contrast');
  await expect(page.evaluate(() => window.whycam!.set({ contrastClass: 1000 }))).rejects.toThrow(/contrastClass/);
});

test.describe('on a phone held upright', () => {
  test.use({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true });

  test('presentation mode puts the picture on top, full width, and the predictions below it', async ({
    page,
  }, testInfo) => {
    await waitForStatus(page, (x) => x.frames > 3, 60_000, 'live heatmaps');
    await set(page, { presentation: true });
    const view = page.locator('whycam-live-view').first();
    await expect.poll(async () => (await view.boundingBox())!.y).toBeLessThan(1);
    const v = (await view.boundingBox())!;
    expect(v.width).toBeGreaterThan(389);
    const predictions = (await page.locator('whycam-predictions').boundingBox())!;
    expect(predictions.y).toBeGreaterThanOrEqual(v.y + v.height - 1);
    expect(predictions.y + predictions.height).toBeLessThan(844);
    await expect(page.locator('whycam-header')).toBeHidden();
    await expect(hudLine(page)).toBeVisible();
    // Controls other than the predictions rest hidden until the screen is touched.
    await expect(page.locator('whycam-app')).toHaveAttribute('idle', '', { timeout: 10_000 });
    await expect(page.locator('whycam-controls')).toBeHidden();
    await expect(page.locator('whycam-predictions')).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath('presentation-phone.png') });
  });
});
