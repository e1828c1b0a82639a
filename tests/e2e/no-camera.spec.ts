import { expect, test, waitForStatus } from './fixtures.js';

// A machine without any camera, and a browser without WebGPU.
test.use({ camera: null, webgpu: false });

test('no camera gives a message and offers the still-image mode', async ({ page }) => {
  await page.goto('/?backend=wasm');
  const notice = page.locator('whycam-notice[data-topic=camera]');
  await expect(notice).toContainText('No camera was found.');
  await expect(notice.getByRole('button', { name: 'Open a photo' })).toBeVisible();
  await expect(page.locator('whycam-live-view')).toContainText('Open a photo');
});

test('without WebGPU the best other backend is used, and the HUD says why', async ({ page }) => {
  await page.goto('/?camera=off');
  const s = await waitForStatus(page, (x) => x.ready, 120_000, 'ready');
  expect(s.backend).toBe('wasm');
  expect(s.backendNotes[0]).toBe('webgpu: not available in this browser (no adapter)');
  expect(s.backendNotes[1]).toMatch(/^webgl: software renderer .* slower than wasm/);
});
