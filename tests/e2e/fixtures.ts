import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type FileChooser, type Page } from '@playwright/test';
import type { WhyCamSet, WhyCamStatus } from '../../src/app/automation.js';
import { chromiumLaunchOptions } from '../../scripts/chromium.js';
import { SHARED } from '../helpers/shared.js';

export { expect };

export const VIDEOS = {
  pomeranian: path.join(SHARED, 'video', 'pomeranian_sofa_640x360_30fps.mjpeg'),
};

interface Options {
  /** The video file the fake camera plays, or null for a browser without the fake camera. */
  camera: string | null;
  /** Auto-accept the camera permission prompt. */
  allowCamera: boolean;
  /** Offer WebGPU (on SwiftShader here). */
  webgpu: boolean;
}

/** Debian's chromium (no browser download), with a fake camera fed from a video file. */
export const test = base.extend<object, Options>({
  camera: [VIDEOS.pomeranian, { option: true, scope: 'worker' }],
  allowCamera: [true, { option: true, scope: 'worker' }],
  webgpu: [true, { option: true, scope: 'worker' }],
  launchOptions: [
    async ({ camera, allowCamera, webgpu }, use) => {
      await use(chromiumLaunchOptions({ camera, allowCamera, webgpu }));
    },
    { scope: 'worker' },
  ],
});

export async function status(page: Page): Promise<WhyCamStatus> {
  return page.evaluate(() => window.whycam!.status());
}

export async function set(page: Page, partial: WhyCamSet): Promise<void> {
  await page.evaluate((p) => window.whycam!.set(p), partial);
}

/** Waits until `check` holds for the app's status, and returns that status. */
export async function waitForStatus(
  page: Page,
  check: (s: WhyCamStatus) => boolean,
  timeout = 60_000,
  what = 'status',
): Promise<WhyCamStatus> {
  const end = Date.now() + timeout;
  let last: WhyCamStatus | undefined;
  while (Date.now() < end) {
    // Until the app has started, there is no API to ask: keep waiting.
    const now = await page.evaluate(() => window.whycam?.status());
    if (now) {
      last = now;
      if (check(last)) return last;
    }
    await page.waitForTimeout(100);
  }
  throw new Error(
    `Timed out waiting for ${what}; last status: ${JSON.stringify({ ...last, heatmap: undefined, layers: undefined })}`,
  );
}

/**
 * Answers the file chooser that `trigger` opens: one trigger, one chooser, no retry. A 'filechooser'
 * listener turns on Playwright's interception of choosers with a message it does not wait for (its
 * client's `updateSubscription(...).catch()`); a trigger that acts at once (a key press) could open
 * the chooser before the browser has taken that message, and no event would come. So the trigger
 * waits for a round trip to the page, answered after that message; a trigger that opens no chooser
 * fails here.
 */
export async function chooseFile(
  page: Page,
  trigger: () => Promise<void>,
  files: Parameters<FileChooser['setFiles']>[0],
): Promise<void> {
  const chooser = page.waitForEvent('filechooser', { timeout: 30_000 });
  await page.evaluate(() => undefined);
  await trigger();
  const opened = await chooser.catch(async (e: unknown) => {
    const focus = await page.evaluate(
      () => `${document.hasFocus()} ${document.activeElement?.tagName} ${navigator.userActivation?.hasBeenActive}`,
    );
    throw new Error(`No file chooser opened (focus: ${focus})`, { cause: e });
  });
  await opened.setFiles(files);
}

/** Opens a photo from ../shared in the app's still-image mode, as a drop or paste would. */
export async function openPhoto(page: Page, file: string): Promise<void> {
  const bytes = [...fs.readFileSync(file)];
  const type = file.endsWith('.png') ? 'image/png' : 'image/jpeg';
  await page.evaluate(
    async ({ bytes, type }) => {
      const blob = new Blob([new Uint8Array(bytes)], { type });
      await window.whycam!.openImage(blob);
    },
    { bytes, type },
  );
}

export { massInBox } from '../helpers/heatmap-mass.js';
