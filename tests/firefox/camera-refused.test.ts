import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchFirefox, type FirefoxSession } from '../../scripts/firefox.js';
import { StaticServer } from '../../src/node/static-server.js';
import { refusedThenPhoto } from '../helpers/browser-flows.js';
import { APP_DIR, browserApp } from './app.js';

// The user has blocked the camera for every site (permissions.default.camera = 2): getUserMedia
// is refused, as when someone answers "Block" to Firefox's prompt.

describe('Firefox, camera refused', () => {
  const server = new StaticServer(APP_DIR);
  let firefox: FirefoxSession;

  beforeAll(async () => {
    await server.start();
    firefox = await launchFirefox({ camera: 'fake', allowCamera: false });
  });
  afterAll(async () => {
    await firefox?.close();
    await server.stop();
  });

  it('says the camera was refused, and a photo still gets explained', async () => {
    const page = await firefox.browser.newPage();
    await page.goto(`${server.url}/?backend=wasm`);
    await refusedThenPhoto(browserApp(page));
  });
});
