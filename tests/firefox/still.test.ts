import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchFirefox, type FirefoxSession } from '../../scripts/firefox.js';
import { StaticServer } from '../../src/node/static-server.js';
import { explainSherlock, gradcamOnTheHead } from '../helpers/browser-flows.js';
import { APP_DIR, browserApp } from './app.js';

describe('Firefox, still image', () => {
  const server = new StaticServer(APP_DIR);
  let firefox: FirefoxSession;

  beforeAll(async () => {
    await server.start();
    firefox = await launchFirefox({ camera: null });
  });
  afterAll(async () => {
    await firefox?.close();
    await server.stop();
  });

  it('explains sherlock.jpg as a golden retriever with the heatmap on its head, and re-explains it on a change', async () => {
    const page = await firefox.browser.newPage();
    await page.goto(`${server.url}/?backend=wasm&camera=off`);
    const app = browserApp(page);
    await gradcamOnTheHead(app, await explainSherlock(app));
  });
});
