import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchWebKit, type WebKitSession } from '../../scripts/webkit.js';
import { StaticServer } from '../../src/node/static-server.js';
import { photo } from '../helpers/shared.js';
import { APP_DIR, openPhoto, waitForStatus } from './app.js';

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
    const page = webkit.page;
    await page.goto(`${server.url}/`);
    const refused = await waitForStatus(page, (x) => x.notices.some((n) => n.topic === 'camera'), 'a camera notice');
    expect(refused.notices.find((n) => n.topic === 'camera')!.message).toContain('Camera access was refused.');
    expect(refused.mode).not.toBe('camera');
    await openPhoto(page, photo('brown_bear.jpg'));
    const s = await waitForStatus(page, (x) => x.mode === 'image' && x.frames > 0, 'the photo explained');
    expect(s.predictions[0]!.label).toBe('brown bear');
  });
});
