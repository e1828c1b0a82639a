import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * How every automated Firefox here starts (browser tests, benchmarks): Debian's firefox-esr,
 * nothing downloaded, driven by puppeteer-core over WebDriver BiDi (Playwright's Firefox is a
 * patched build that cannot be installed here).
 */
export const FIREFOX = process.env['FIREFOX'] ?? '/usr/bin/firefox-esr';

export interface FirefoxOptions {
  /** The camera: Firefox's fake device (a synthetic moving pattern), or none at all. */
  camera?: 'fake' | null;
  /** Grant the camera without a prompt; false: the user refuses it. */
  allowCamera?: boolean;
}

export interface FirefoxSession {
  browser: Browser;
  /** Closes the browser and removes its profile and home folder. */
  close(): Promise<void>;
}

/** Firefox preferences for an unattended, quiet browser with the camera set as asked. */
export function firefoxPrefs({ camera = 'fake', allowCamera = true }: FirefoxOptions = {}): Record<string, unknown> {
  return {
    // No traffic of the browser's own, no first-run pages.
    'app.update.enabled': false,
    'browser.shell.checkDefaultBrowser': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'toolkit.telemetry.reportingpolicy.firstRun': false,
    'network.captive-portal-service.enabled': false,
    'browser.safebrowsing.update.enabled': false,
    // The camera: a fake device, and either no prompt (granted) or a standing "block" (refused).
    'media.navigator.streams.fake': camera === 'fake',
    'media.navigator.permission.disabled': allowCamera,
    'permissions.default.camera': allowCamera ? 0 : 2,
    'permissions.default.microphone': 2,
  };
}

/**
 * Starts a headless Firefox with a fresh profile. Firefox wants a writable HOME (root's may not
 * be, in containers) and reads MOZ_HEADLESS as well as --headless.
 */
export async function launchFirefox(options: FirefoxOptions = {}): Promise<FirefoxSession> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX,
    headless: true,
    env: { ...process.env, HOME: home, MOZ_HEADLESS: '1' },
    extraPrefsFirefox: firefoxPrefs(options),
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
