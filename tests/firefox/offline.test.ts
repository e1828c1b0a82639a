import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchFirefox, type FirefoxSession } from '../../scripts/firefox.js';
import { StaticServer } from '../../src/node/static-server.js';
import { APP_DIR, ISOLATED_THREADS_NOTE, waitForStatus } from './app.js';

// Installed once, WhyCam works with no server at all. The host here is a plain one that sends no
// headers: the first visit is not cross-origin isolated; after it, the service worker serves the
// app with COOP/COEP itself. Offline is real: the server is stopped (WebDriver BiDi has no
// network emulation in this Firefox), so anything not cached fails to load.

describe('Firefox, offline', () => {
  const server = new StaticServer(APP_DIR, { headers: 'none' });
  let firefox: FirefoxSession;
  let page: Page;

  beforeAll(async () => {
    await server.start();
    firefox = await launchFirefox({ camera: 'fake', allowCamera: true });
  });
  afterAll(async () => {
    await firefox?.close();
    await server.stop();
  });

  it('after the service worker is active, the app reloads with the server gone, isolated, and explains the camera', async () => {
    const origin = server.url;
    page = await firefox.browser.newPage();
    await page.goto(`${origin}/?backend=wasm`);
    const first = await waitForStatus(
      page,
      (s) => s.offlineReady && s.frames > 0,
      'service worker in control, heatmaps drawn',
    );
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(first.backendNotes.find((n) => n.startsWith('wasm threads:'))).toContain('not cross-origin isolated');

    await server.stop();
    expect(
      await page.evaluate(() =>
        fetch('/not-cached.txt').then(
          () => 'fetched',
          () => 'failed',
        ),
      ),
    ).toBe('failed');
    await page.reload();
    const s = await waitForStatus(page, (x) => x.ready && x.frames > 3, 'heatmaps after a reload with the server gone');
    expect(s.backend).toBe('wasm');
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    // The service worker's own headers made the page isolated: the note no longer blames the headers.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(s.backendNotes.find((n) => n.startsWith('wasm threads:'))).toMatch(ISOLATED_THREADS_NOTE);

    await page.goto(`${origin}/some/deep/link?backend=wasm&camera=off`);
    await waitForStatus(page, (x) => x.ready, 'the app at a deep link, offline');
  });
});
