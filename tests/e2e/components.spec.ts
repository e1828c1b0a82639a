import { type Page } from '@playwright/test';
import { DEV_PORT } from '../../playwright.config.js';
import { expect, test } from './fixtures.js';

// Each Lit element on its own (the dev server's fixture page): properties in, shadow DOM and events out.

test.use({ camera: null });

async function mount(page: Page, tag: string, props: Record<string, unknown>): Promise<void> {
  await page.goto(`http://127.0.0.1:${DEV_PORT}/tests/e2e/fixtures/components.html`);
  await page.waitForFunction(() => (window as Window & { componentsReady?: boolean }).componentsReady === true);
  await page.evaluate(
    ({ tag, props }) => {
      const el = document.createElement(tag);
      Object.assign(el, props);
      el.id = 'subject';
      const recorded: { type: string; detail: unknown }[] = [];
      (window as Window & { events?: unknown[] }).events = recorded;
      for (const type of ['pin', 'settings-change', 'action', 'notice-action', 'close']) {
        el.addEventListener(type, (e) => recorded.push({ type, detail: (e as CustomEvent).detail }));
      }
      document.body.append(el);
    },
    { tag, props },
  );
}

const events = (page: Page) => page.evaluate(() => (window as Window & { events?: unknown[] }).events ?? []);

test('whycam-predictions: bars for the top 3, a click pins the class', async ({ page }) => {
  await mount(page, 'whycam-predictions', {
    predictions: [
      { classIndex: 207, label: 'golden retriever', score: 0.78 },
      { classIndex: 208, label: 'Labrador retriever', score: 0.15 },
      { classIndex: 222, label: 'kuvasz', score: 0.03 },
      { classIndex: 1, label: 'goldfish', score: 0.01 },
    ],
  });
  // The class buttons (each of the others also has a "not" button, for "why A and not B").
  const buttons = page.locator('#subject').locator('button:not(.not)');
  await expect(buttons).toHaveCount(3);
  await expect(buttons.first()).toContainText('golden retriever');
  await expect(buttons.first()).toContainText('78.0%');
  expect(
    await buttons
      .nth(1)
      .locator('meter')
      .evaluate((m) => (m as HTMLMeterElement).value),
  ).toBeCloseTo(0.15);
  await buttons.nth(1).click();
  expect(await events(page)).toEqual([{ type: 'pin', detail: { classIndex: 208 } }]);
  await page.evaluate(() =>
    Object.assign(document.getElementById('subject')!, { pinned: 208, pinnedLabel: 'Labrador retriever' }),
  );
  await expect(buttons.nth(1)).toHaveAttribute('aria-pressed', 'true');
  await page.locator('#subject').getByRole('link', { name: 'follow the top prediction' }).click();
  expect((await events(page)).at(-1)).toEqual({ type: 'pin', detail: { classIndex: null } });
});

test('whycam-hud: every figure shown, the coincidence sentence when there is one', async ({ page }) => {
  await mount(page, 'whycam-hud', {
    figures: {
      heatmapsPerSecond: 21.34,
      cameraFps: 29.9,
      latencyMs: { p50: 61.2, p95: 88.7 },
      stages: { waitMs: 10, preprocessMs: 3.2, forwardMs: 30.1, heatmapMs: 1.5, readbackMs: 0.1 },
      backend: 'wasm',
      backendNotes: ['webgpu: software renderer'],
      model: 'MobileNet V1 0.75 (224)',
      layer: 'conv_pw_13_relu',
      grid: '7×7',
      method: 'Grad-CAM',
      reduction: 'logit',
      coincidence: 'Here Grad-CAM is exactly CAM.',
    },
  });
  const hud = page.locator('#subject');
  await expect(hud.locator('[data-hud=rate]')).toHaveText('21.3');
  await expect(hud.locator('[data-hud=camera]')).toHaveText('29.9 fps');
  await expect(hud.locator('[data-hud=latency]')).toHaveText('p50 61 ms · p95 89 ms');
  await expect(hud.locator('[data-hud=stages]')).toContainText('forward 30 ms');
  await expect(hud.locator('[data-hud=map]')).toHaveText('Grad-CAM · conv_pw_13_relu (7×7) · logit');
  await expect(hud.locator('[data-hud=coincidence]')).toHaveText('Here Grad-CAM is exactly CAM.');
  await hud.getByText('why wasm').click();
  await expect(hud.getByText('webgpu: software renderer')).toBeVisible();
});

test('whycam-controls: reflects the settings and reports changes', async ({ page }) => {
  await mount(page, 'whycam-controls', {
    settings: {
      model: 'mobilenet_v1_0.75_224',
      method: 'layercam',
      layer: 'conv_pw_11_relu',
      reduction: 'logit',
      classIndex: null,
      crop: 'center',
      colormap: 'jet',
      alpha: 0.5,
      threshold: 0,
      smoothing: 0,
      mirror: false,
      presentation: false,
      hud: true,
      contrastClass: null,
      compare: null,
      resolution: '480p',
    },
    layers: [
      { name: 'conv_pw_11_relu', height: 14, width: 14, channels: 384 },
      { name: 'conv_pw_13_relu', height: 7, width: 7, channels: 768 },
    ],
    camLayer: 'conv_pw_13_relu',
    mode: 'camera',
  });
  const c = page.locator('#subject');
  await expect(c.locator('#method')).toHaveValue('layercam');
  await expect(c.locator('#layer')).toHaveValue('conv_pw_11_relu');
  await c.locator('#method').selectOption('gradcam++');
  await c.locator('#layer').selectOption('conv_pw_13_relu');
  await c.locator('#colormap').selectOption('viridis');
  await c.locator('#class').fill('golden retriever (207)');
  await c.getByRole('button', { name: /Freeze/ }).click();
  expect(await events(page)).toEqual([
    { type: 'settings-change', detail: { method: 'gradcam++' } },
    { type: 'settings-change', detail: { layer: 'conv_pw_13_relu' } },
    { type: 'settings-change', detail: { colormap: 'viridis' } },
    { type: 'settings-change', detail: { classIndex: 207 } },
    { type: 'action', detail: { action: 'freeze' } },
  ]);
  // With CAM the layer is fixed: the menu is disabled and says why.
  await page.evaluate(() => {
    const el = document.getElementById('subject') as HTMLElement & { settings: Record<string, unknown> };
    el.settings = { ...el.settings, method: 'cam' };
  });
  await expect(c.locator('#layer')).toBeDisabled();
  await expect(c.locator('[data-control=resolved-layer]')).toContainText('CAM is defined at conv_pw_13_relu only');
});

test('whycam-notice and whycam-help: messages with a way forward, every shortcut listed', async ({ page }) => {
  await mount(page, 'whycam-notice', {
    message: 'Camera access was refused.',
    hint: 'Open a photo instead.',
    actions: [{ label: 'Open a photo', action: 'open-image' }],
  });
  const notice = page.locator('#subject');
  await expect(notice.getByRole('alert')).toContainText('Camera access was refused.');
  await notice.getByRole('button', { name: 'Open a photo' }).click();
  expect(await events(page)).toEqual([{ type: 'notice-action', detail: { action: 'open-image' } }]);

  await mount(page, 'whycam-help', { open: false });
  const help = page.locator('#subject');
  await expect(help.getByRole('dialog')).toBeHidden();
  await page.evaluate(() => {
    (document.getElementById('subject') as HTMLElement & { open: boolean }).open = true;
  });
  await expect(help.getByRole('dialog')).toBeVisible();
  // One row per shortcut.
  await expect(help.locator('tr')).toHaveCount(25);
  await help.getByRole('button', { name: 'Close' }).click();
  expect(await events(page)).toEqual([{ type: 'close', detail: null }]);
});

test('whycam-live-view: the overlay is upsampled on pixel centres, coloured, and dims what was not explained', async ({
  page,
}) => {
  await mount(page, 'whycam-live-view', {});
  const pixels = await page.evaluate(async () => {
    const el = document.getElementById('subject') as HTMLElement & {
      picture: ImageBitmap;
      overlayStyle: object;
      updateComplete: Promise<void>;
      show(f: object): void;
    };
    el.style.width = '400px';
    const canvas = new OffscreenCanvas(400, 200);
    const c = canvas.getContext('2d')!;
    c.fillStyle = '#808080';
    c.fillRect(0, 0, 400, 200);
    el.picture = await createImageBitmap(canvas);
    el.overlayStyle = { colormap: 'gray', alpha: 1, threshold: 0, dimOutside: 0.5 };
    await el.updateComplete;
    // A 2×2 map over the centre square (x 100–300): bright right column.
    const painted = new Promise((r) => el.addEventListener('painted', r, { once: true }));
    el.show({
      heatmap: { width: 2, height: 2, data: new Float32Array([0, 1, 0, 1]) },
      region: { x: 100, y: 0, width: 200, height: 200 },
      sourceSize: { width: 400, height: 200 },
      captureTime: null,
      frame: 1,
    });
    await painted;
    const overlay = el.shadowRoot!.querySelector('canvas.overlay') as HTMLCanvasElement;
    const read = new OffscreenCanvas(overlay.width, overlay.height);
    const rc = read.getContext('2d')!;
    rc.drawImage(overlay, 0, 0);
    const at = (x: number, y: number) =>
      Array.from(
        rc.getImageData(Math.round((x * overlay.width) / 400), Math.round((y * overlay.height) / 200), 1, 1).data,
      );
    return {
      outside: at(50, 100),
      left: at(110, 100),
      middle: at(200, 100),
      right: at(290, 100),
      quarter: at(150, 100),
      threeQuarter: at(250, 100),
    };
  });
  expect(pixels.outside[3]).toBeCloseTo(128, -1); // dimmed: black at 50%
  expect(pixels.left.slice(0, 4)).toEqual([0, 0, 0, 255]);
  expect(pixels.right[0]).toBeGreaterThan(250);
  // Pixel centres: the cell centres sit at x = 150 and 250, the midpoint is exactly half-way.
  expect(pixels.quarter[0]).toBeLessThan(8);
  expect(pixels.threeQuarter[0]).toBeGreaterThan(247);
  expect(Math.abs(pixels.middle[0]! - 128)).toBeLessThan(8);
});
