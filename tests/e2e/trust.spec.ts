import type { Page } from '@playwright/test';
import type { WhyCamStatus } from '../../src/app/automation.js';
import { photo } from '../helpers/shared.js';
import { expect, massInBox, openPhoto, set, status, test, waitForStatus } from './fixtures.js';

// "Can the map be trusted?" in the app, on WASM: occlusion sensitivity and LIME on a still picture
// (progress, cancel, the map in the overlay), the live cascading randomisation (scramble the top N
// blocks, then get the real network back), and the Grad-CAM++ warning.

/** The dog's head in sherlock.jpg (960×640), hand-measured (as in still.spec.ts). */
const HEAD: [number, number, number, number] = [375, 30, 830, 395];

const panel = (page: Page) => page.locator('whycam-perturbation-panel');

/** The perturbation map as the status's main map, for massInBox. */
function perturbationMap(s: WhyCamStatus): WhyCamStatus {
  return { ...s, heatmap: s.perturbation.heatmap, region: s.perturbation.region };
}

test('occlusion on a photo: progress in forward passes up to done, and the map peaks on the dog in the overlay', async ({
  page,
}) => {
  await page.goto('/?backend=wasm&camera=off');
  await openPhoto(page, photo('sherlock_golden_retriever.jpg'));
  await waitForStatus(page, (x) => x.frames > 0 && x.mode === 'image', 60_000, 'the photo explained');
  await expect(panel(page).locator('[data-control=perturb-run]')).toHaveText('Explain this picture');

  await panel(page).locator('#p-method').selectOption('occlusion');
  for (const [field, v] of [
    ['#p-mask-size', '64'],
    ['#p-stride', '32'],
  ] as const) {
    await panel(page).locator(field).fill(v);
    await panel(page).locator(field).dispatchEvent('change');
  }
  // Every few milliseconds, what the progress bar shows.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    setInterval(() => {
      const p = window.whycam!.status().perturbation;
      const now = `${p.state} ${p.done}/${p.total}`;
      if (seen.at(-1) !== now) seen.push(now);
    }, 4);
  });
  await panel(page).locator('[data-control=perturb-run]').click();
  const s = await waitForStatus(page, (x) => x.perturbation.state === 'done', 120_000, 'occlusion done');
  // Progress came batch by batch (4 patched pictures each on WASM), increasing, before the end.
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  const progress = seen.filter((v) => v.startsWith('running') && !v.endsWith(' 0/0')).map((v) => v.split(' ')[1]);
  expect(progress.length).toBeGreaterThan(0);
  const steps = [...Array.from({ length: 12 }, (_, i) => `${4 * (i + 1)}/49`), '49/49'];
  expect(progress.every((v) => steps.includes(v!))).toBe(true);
  const done = progress.map((v) => Number(v!.split('/')[0]));
  expect(done).toEqual([...done].sort((a, b) => a - b));
  expect(progress.some((v) => v !== '49/49')).toBe(true);
  expect(seen.at(-1)).toBe('done 49/49');
  expect(s.perturbation).toMatchObject({ method: 'occlusion', done: 49, total: 49, forwardPasses: 50, shown: true });
  expect(s.perturbation.target).toMatchObject({ classIndex: 207, label: 'golden retriever' });
  await expect(panel(page).locator('[data-control=perturb-progress]')).toHaveJSProperty('value', 49);
  await expect(panel(page).locator('[data-control=perturb-state]')).toContainText('Done: 50 forward passes');

  // The map's maximum lies on the dog's head, and most of its mass too.
  const map = s.perturbation.heatmap!;
  const region = s.perturbation.region!;
  expect([map.width, map.height]).toEqual([7, 7]);
  const peak = map.data.indexOf(Math.max(...map.data));
  const x = region.x + (((peak % 7) + 0.5) / 7) * region.width;
  const y = region.y + ((Math.floor(peak / 7) + 0.5) / 7) * region.height;
  expect(x >= HEAD[0] && x <= HEAD[2] && y >= HEAD[1] && y <= HEAD[3]).toBe(true);
  expect(massInBox(perturbationMap(s), HEAD)).toBeGreaterThan(0.5);
  // It is the map in the overlay now, labelled with its method.
  await expect(page.locator('whycam-live-view').first()).toContainText('golden retriever');
  await expect(page.locator('whycam-live-view').first()).toContainText('Occlusion');

  // Another setting brings the gradient map back.
  await set(page, { method: 'gradcam' });
  await waitForStatus(page, (x) => !x.perturbation.shown && x.method === 'gradcam', 20_000);
});

test('LIME from the live camera freezes the frame first, and Cancel really stops it', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForStatus(page, (x) => x.frames > 0 && x.mode === 'camera', 60_000, 'live heatmaps');
  await expect(panel(page).locator('[data-control=perturb-run]')).toHaveText('Freeze and explain');
  await panel(page).locator('#p-method').selectOption('lime');
  await panel(page).locator('[data-control=perturb-run]').click();
  await expect(page.locator('whycam-notice[data-topic=slow-method]')).toContainText(
    'the camera frame was frozen first',
  );
  const running = await waitForStatus(
    page,
    (x) => x.perturbation.state === 'running' && x.perturbation.done > 0,
    60_000,
    'LIME progress',
  );
  expect(running.frozen).toBe(true);
  expect(running.perturbation.total).toBe(2048);
  await panel(page).locator('[data-control=perturb-cancel]').click();
  const s = await waitForStatus(page, (x) => x.perturbation.state === 'cancelled', 30_000, 'cancelled');
  expect(s.perturbation.done).toBeLessThan(2048);
  expect(s.perturbation.shown).toBe(false);
  await expect(panel(page).locator('[data-control=perturb-state]')).toHaveText('Cancelled');
  await expect(panel(page).locator('[data-control=perturb-cancel]')).toHaveCount(0);
  // The worker is free again: a short occlusion run on the same frozen frame finishes.
  const state = await page.evaluate(() =>
    window.whycam!.perturb({ method: 'occlusion', options: { maskSize: 112, stride: 112 } }),
  );
  expect(state).toBe('done');
  expect((await status(page)).perturbation).toMatchObject({ state: 'done', total: 4, shown: true });
});

test('scrambling the top blocks changes prediction and map, says so, and 0 brings the real network back exactly', async ({
  page,
}) => {
  await page.goto('/?backend=wasm&camera=off');
  await openPhoto(page, photo('sherlock_golden_retriever.jpg'));
  const real = await waitForStatus(page, (x) => x.frames > 0 && x.mode === 'image', 60_000, 'the photo explained');
  expect(real.scramble).toMatchObject({ setting: 0, scrambled: 0 });
  expect(real.scramble.blocks).toHaveLength(15);
  expect(real.predictions[0]!.label).toBe('golden retriever');

  await page.locator('whycam-controls #scramble').selectOption('3');
  const scrambled = await waitForStatus(page, (x) => x.scramble.scrambled === 3, 30_000, 'scrambled map');
  expect(scrambled.predictions.find((p) => p.classIndex === 207)?.score ?? 0).toBeLessThan(0.05);
  expect(scrambled.heatmap!.data).not.toEqual(real.heatmap!.data);
  await expect(page.locator('whycam-notice[data-topic=scramble]')).toContainText(
    'the network is scrambled. Its top 3 blocks (logits down to block 12)',
  );
  await expect(page.locator('whycam-controls [data-control=scrambled-badge]')).toBeVisible();
  await expect(page.locator('whycam-live-view').first()).toContainText('SCRAMBLED NETWORK (3 blocks)');

  // The notice's button restores the real network: the same scores and the same map, bit for bit.
  await page
    .locator('whycam-notice[data-topic=scramble]')
    .getByRole('button', { name: 'Restore the real network' })
    .click();
  const back = await waitForStatus(
    page,
    (x) => x.scramble.scrambled === 0 && x.settings.scramble === 0 && x.predictions.length > 0,
    30_000,
  );
  expect(back.predictions).toEqual(real.predictions);
  expect(back.heatmap!.data).toEqual(real.heatmap!.data);
  await expect(page.locator('whycam-notice[data-topic=scramble]')).toHaveCount(0);
  await expect(page.locator('whycam-controls [data-control=scrambled-badge]')).toHaveCount(0);

  // The automation API: set() and a value it refuses.
  await set(page, { scramble: 1 });
  await waitForStatus(page, (x) => x.scramble.scrambled === 1, 30_000);
  const refused = await page.evaluate(() => {
    try {
      window.whycam!.set({ scramble: 2.5 });
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  });
  expect(refused).toBe('scramble must be a whole number of blocks from 0 to 15');
  await set(page, { scramble: 0 });
  await waitForStatus(page, (x) => x.scramble.scrambled === 0, 30_000);
});

test('Grad-CAM++ at an inner layer shows the engine’s warning; at the last conv layer it goes', async ({ page }) => {
  await page.goto('/?backend=wasm&camera=off');
  await openPhoto(page, photo('sherlock_golden_retriever.jpg'));
  await waitForStatus(page, (x) => x.frames > 0, 60_000, 'the photo explained');
  const notice = page.locator('whycam-notice[data-topic=method-warning]');
  await expect(notice).toHaveCount(0);
  await page.locator('whycam-controls #method').selectOption('gradcam++');
  await page.locator('whycam-controls #layer').selectOption('conv_pw_11_relu');
  await expect(notice).toContainText(
    'Grad-CAM++ is unreliable at inner layers: its closed-form weights favour the image border here',
  );
  await set(page, { layer: 'conv_pw_13_relu' });
  await expect(notice).toHaveCount(0);
  await set(page, { layer: 'conv_pw_5_relu' });
  await expect(notice).toBeVisible();
  await set(page, { method: 'layercam' });
  await expect(notice).toHaveCount(0);
});
