import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchWebKit, type WebKitSession } from '../../scripts/webkit.js';
import { StaticServer } from '../../src/node/static-server.js';
import { APP_DIR, waitForStatus } from './app.js';

// Installed once, WhyCam works in WebKit with no server at all: the server is stopped, so
// anything the service worker has not cached fails to load.

describe('WebKit, offline', () => {
  const server = new StaticServer(APP_DIR);
  let webkit: WebKitSession;

  beforeAll(async () => {
    await server.start();
    webkit = await launchWebKit({ camera: 'mock' });
  });
  afterAll(async () => {
    await webkit?.close();
    await server.stop();
  });

  it('after the service worker is active, the app reloads with the server gone and explains the camera', async () => {
    const page = webkit.page;
    const origin = server.url;
    await page.goto(`${origin}/`);
    await waitForStatus(page, (s) => s.offlineReady && s.frames > 0, 'service worker in control, heatmaps drawn');
    await server.stop();
    expect(
      await page.evaluate(() =>
        fetch('/not-cached.txt').then(
          () => 'fetched',
          () => 'failed',
        ),
      ),
    ).toBe('failed');
    await page.goto(`${origin}/`);
    const s = await waitForStatus(
      page,
      (x) => x.ready && x.mode === 'camera' && x.frames > 3,
      'heatmaps with the server gone',
    );
    expect(s.backend).toBe('wasm');
    expect(s.error).toBeNull();
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  });
});
