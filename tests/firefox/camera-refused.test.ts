import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchFirefox, type FirefoxSession } from '../../scripts/firefox.js';
import { StaticServer } from '../../src/node/static-server.js';
import { photo } from '../helpers/shared.js';
import { APP_DIR, openPhoto, waitForStatus } from './app.js';

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
    const refused = await waitForStatus(page, (x) => x.notices.some((n) => n.topic === 'camera'), 'a camera notice');
    expect(refused.notices.find((n) => n.topic === 'camera')!.message).toContain('Camera access was refused.');
    expect(refused.mode).not.toBe('camera');
    await openPhoto(page, photo('brown_bear.jpg'));
    const s = await waitForStatus(page, (x) => x.mode === 'image' && x.frames > 0, 'the photo explained');
    expect(s.predictions[0]!.label).toBe('brown bear');
  });
});
