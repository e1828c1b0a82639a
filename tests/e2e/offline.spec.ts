import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../helpers/shared.js';
import { StaticServer } from '../../src/node/static-server.js';
import { expect, status, test, waitForStatus } from './fixtures.js';

// Installed once, WhyCam works with no network: the service worker serves the app, the WASM
// binaries and the default model from its cache.

test('after the service worker is active, the app starts offline and explains the camera', async ({
  page,
  context,
}) => {
  await page.goto('/?backend=wasm');
  await waitForStatus(page, (s) => s.offlineReady && s.frames > 0, 60_000, 'service worker in control, heatmaps drawn');
  await expect(page.locator('[data-badge=offline-ready]')).toBeVisible();
  await context.setOffline(true);
  // Really offline: nothing that is not cached can be fetched.
  expect(
    await page.evaluate(() =>
      fetch('/not-cached.txt').then(
        () => 'fetched',
        () => 'failed',
      ),
    ),
  ).toBe('failed');
  await page.reload();
  const s = await waitForStatus(page, (x) => x.ready && x.frames > 3, 60_000, 'heatmaps after an offline reload');
  expect(s.online).toBe(false);
  expect(s.predictions.slice(0, 3).some((p) => p.classIndex >= 151 && p.classIndex <= 268)).toBe(true);
  await expect(page.locator('[data-badge=offline]')).toHaveText('Offline');
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  // Deep links open the app too.
  await page.goto('/some/deep/link?backend=wasm&camera=off');
  await waitForStatus(page, (x) => x.ready, 60_000, 'the app at a deep link, offline');
});

test('a new build is detected and offered; accepting it reloads into the new version', async ({ page }, info) => {
  const build = (id: string): string => {
    const out = path.join(info.outputDir, `build-${id}`);
    execFileSync('npx', ['vite', 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], {
      cwd: ROOT,
      env: { ...process.env, VITE_BUILD_ID: `test-${id}` },
      stdio: 'pipe',
    });
    return out;
  };
  const server = new StaticServer(build('a'));
  const next = build('b');
  await server.start();
  try {
    await page.goto(`${server.url}/?backend=wasm&camera=off`);
    await waitForStatus(page, (s) => s.offlineReady, 60_000, 'version a installed');
    await expect(page.locator('footer')).toContainText('build test-a');
    server.root = next;
    await page.evaluate(() => window.whycam!.checkForUpdate());
    const notice = page.locator('whycam-notice[data-topic=update]');
    await expect(notice).toContainText('A new version is ready — reload', { timeout: 60_000 });
    expect((await status(page)).updateReady).toBe(true);
    await notice.getByRole('button', { name: 'Reload' }).click();
    await expect(page.locator('footer')).toContainText('build test-b', { timeout: 30_000 });
  } finally {
    await server.stop();
  }
});

test('a first visit that cannot load the app says so instead of showing a blank page', async ({ page }) => {
  // Only the page itself arrives (the network went away after it): no script, no model.
  await page.route('**/*', (route) =>
    route.request().resourceType() === 'document' ? route.continue() : route.abort('internetdisconnected'),
  );
  await page.goto('/');
  await expect(page.getByText('WhyCam could not start')).toBeVisible();
  await expect(page.getByText('first visit without a network')).toBeVisible();
});

test('when the app loads but its model cannot, the message says what to do', async ({ page }) => {
  await page.route('**/models/**', (route) => route.abort('internetdisconnected'));
  await page.goto('/?backend=wasm&camera=off');
  const notice = page.locator('whycam-notice[data-topic=model]');
  await expect(notice).toContainText('could not be fetched (offline, and not cached yet)');
  await expect(notice).toContainText('Connect once');
});

test('when the browser offers installation, an Install button asks for it', async ({ page }) => {
  await page.goto('/?backend=wasm&camera=off');
  await waitForStatus(page, (s) => s.ready, 60_000);
  await expect(page.getByRole('button', { name: 'Install' })).toHaveCount(0);
  // What Chromium fires when the app is installable (headless never does).
  await page.evaluate(() => {
    const offer = Object.assign(new Event('beforeinstallprompt', { cancelable: true }), {
      prompt: () => {
        (window as Window & { prompted?: boolean }).prompted = true;
        return Promise.resolve();
      },
      userChoice: Promise.resolve({ outcome: 'accepted' }),
    });
    window.dispatchEvent(offer);
  });
  await page.getByRole('button', { name: 'Install' }).click();
  expect(await page.evaluate(() => (window as Window & { prompted?: boolean }).prompted)).toBe(true);
  await expect(page.getByRole('button', { name: 'Install' })).toHaveCount(0);
});
