import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { SHARED } from '../helpers/shared.js';

export const CLIPS = {
  /** H.264 640×360, 25 fps, 9.76 s: 244 frames (../shared/video/SOURCES.md). */
  pomeranian: path.join(SHARED, 'video', 'pomeranian_sofa.mp4'),
  mjpeg: path.join(SHARED, 'video', 'pomeranian_sofa_640x360_30fps.mjpeg'),
};

/** Puts a file from this machine into the page as `window.__files[name]` (a File). */
export async function putFile(page: Page, file: string, name: string, type: string, bytes?: Buffer): Promise<void> {
  const b64 = (bytes ?? fs.readFileSync(file)).toString('base64');
  await page.evaluate(
    ({ b64, name, type }) => {
      const w = window as unknown as { __files?: Record<string, File> };
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      (w.__files ??= {})[name] = new File([data], name, { type });
    },
    { b64, name, type },
  );
}

/**
 * In the page: how the browser's own `<video>` decodes a clip, independently of the app — its
 * duration, and the frames it decoded playing it to the end (`getVideoPlaybackQuality`, which
 * counts every decoded frame, shown or dropped).
 */
export async function decodeInVideoElement(
  page: Page,
  blobExpr: string,
): Promise<{ frames: number; duration: number }> {
  return page.evaluate(async (expr) => {
    const blob = (0, eval)(expr) as Blob;
    const v = document.createElement('video');
    v.muted = true;
    v.src = URL.createObjectURL(blob);
    await new Promise((resolve, reject) => {
      v.onloadedmetadata = resolve;
      v.onerror = () => reject(new Error(`video error ${v.error?.code} ${v.error?.message}`));
    });
    // A WebM's duration may be unknown until the end is read: asking for a far time makes the element find it.
    if (!Number.isFinite(v.duration)) {
      v.currentTime = 1e6;
      await new Promise((resolve) => (v.onseeked = resolve));
      v.currentTime = 0;
      await new Promise((resolve) => (v.onseeked = resolve));
    }
    const duration = v.duration;
    v.playbackRate = 2;
    const ended = new Promise((resolve) => (v.onended = resolve));
    await v.play();
    await ended;
    const frames = v.getVideoPlaybackQuality().totalVideoFrames;
    URL.revokeObjectURL(v.src);
    return { frames, duration };
  }, blobExpr);
}
