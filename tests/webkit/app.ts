import path from 'node:path';
import type { WebKitPage } from '../../scripts/webkit.js';
import type { WhyCamSet, WhyCamStatus } from '../../src/app/automation.js';
import { photoPayload, pollStatus } from '../helpers/app-status.js';
import type { BrowserApp } from '../helpers/browser-flows.js';
import { ROOT } from '../helpers/shared.js';

/** The production build the WebKit tests serve (made once by global-setup.ts). */
export const APP_DIR = path.join(ROOT, 'test-results', 'webkit-app');

type WhyCamWindow = Window & {
  whycam?: { status(): WhyCamStatus; set(p: WhyCamSet): void; openImage(b: Blob): Promise<void> };
};

export function status(page: WebKitPage): Promise<WhyCamStatus | null> {
  return page.evaluate(() => (window as WhyCamWindow).whycam?.status() ?? null);
}

export async function set(page: WebKitPage, partial: WhyCamSet): Promise<void> {
  await page.evaluate((p: WhyCamSet) => (window as WhyCamWindow).whycam!.set(p), partial);
}

/** Waits until `check` holds for the app's status (polled), and returns that status. */
export function waitForStatus(
  page: WebKitPage,
  check: (s: WhyCamStatus) => boolean,
  what: string,
  timeout = 90_000,
): Promise<WhyCamStatus> {
  return pollStatus(() => status(page), check, what, timeout);
}

/** Opens a photo in still-image mode, as a drop or paste would: the file's bytes go into the page as a Blob. */
export async function openPhoto(page: WebKitPage, file: string): Promise<void> {
  const { base64, type } = photoPayload(file);
  await page.evaluate(
    async (data: string, mime: string) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      await (window as WhyCamWindow).whycam!.openImage(new Blob([bytes], { type: mime }));
    },
    base64,
    type,
  );
}

/** The page as the shared flows drive it (tests/helpers/browser-flows.ts). */
export function browserApp(page: WebKitPage): BrowserApp {
  return { status: () => status(page), set: (p) => set(page, p), openPhoto: (file) => openPhoto(page, file) };
}

export { massInBox } from '../helpers/heatmap-mass.js';
