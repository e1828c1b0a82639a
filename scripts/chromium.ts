import type { LaunchOptions, Page } from 'playwright-core';

/**
 * How every automated Chromium here starts (browser tests, benchmarks, scripts): Debian's own
 * browser, nothing downloaded, with the same flags everywhere so that figures compare.
 */
export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

export interface ChromiumOptions {
  /** Offer WebGPU (on SwiftShader where there is no GPU). */
  webgpu?: boolean;
  /** A video file (mjpeg or y4m) the fake camera plays; none: no camera at all. */
  camera?: string | null;
  /** Grant the camera without a prompt. */
  allowCamera?: boolean;
  /** Exact `performance.memory` figures, for memory measurements. */
  preciseMemory?: boolean;
}

export function chromiumArgs({
  webgpu = false,
  camera = null,
  allowCamera = false,
  preciseMemory = false,
}: ChromiumOptions = {}): string[] {
  // No sandbox (containers); no background traffic of the browser's own (the privacy test records every request).
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  if (camera) args.push('--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`);
  if (allowCamera) args.push('--use-fake-ui-for-media-stream');
  if (preciseMemory) args.push('--enable-precise-memory-info');
  return args;
}

/** `chromium.launch(…)` options: the browser and its flags. */
export function chromiumLaunchOptions(options: ChromiumOptions = {}): LaunchOptions {
  return { executablePath: CHROMIUM, args: chromiumArgs(options) };
}

declare global {
  interface Window {
    /** Durations (ms) of the page's long tasks, recorded by `observeLongTasks`. */
    longTasks?: number[];
  }
}

/**
 * Records the duration of every long task (a main-thread task over 50 ms) in `window.longTasks`.
 * Runs in the page: pass it to `addInitScript`, so that it sees the page from its first task.
 */
export function observeLongTasks(): void {
  const tasks: number[] = [];
  window.longTasks = tasks;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) tasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
}

/** The long tasks recorded so far, optionally forgetting them (to measure from now on). */
export function takeLongTasks(page: Pick<Page, 'evaluate'>, { clear = false } = {}): Promise<number[]> {
  return page.evaluate((clear) => {
    const tasks = [...(window.longTasks ?? [])];
    if (clear) window.longTasks?.splice(0);
    return tasks;
  }, clear);
}
