import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchWebKit, type WebKitSession } from '../../scripts/webkit.js';
import { StaticServer } from '../../src/node/static-server.js';
import { refusedThenPhoto } from '../helpers/browser-flows.js';
import { APP_DIR, browserApp } from './app.js';

// WebKitGTK's automation grants the camera without a prompt and has no switch to refuse it (no
// WebDriver permissions command, no Permissions-Policy for the top-level page), so the refusal is
// WebKit's own answer to a refused prompt, given before the app runs: getUserMedia rejects with
// the NotAllowedError WebKit throws then (its message copied from WebKit).

const REFUSE = `navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException(
  'The request is not allowed by the user agent or the platform in the current context, possibly because the user denied permission.',
  'NotAllowedError'));`;

describe('WebKit, camera refused', () => {
  const server = new StaticServer(APP_DIR, { beforeApp: REFUSE });
  let webkit: WebKitSession;

  beforeAll(async () => {
    await server.start();
    webkit = await launchWebKit({ camera: 'mock' });
  });
  afterAll(async () => {
    await webkit?.close();
    await server.stop();
  });

  it('says the camera was refused, and a photo still gets explained', async () => {
    await webkit.page.goto(`${server.url}/`);
    await refusedThenPhoto(browserApp(webkit.page));
  });
});
