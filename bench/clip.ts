/**
 * The whole-clip explanation's speed: `explainVideo` on the Pomeranian clip (244 frames, 640×360
 * H.264) in the app, on WASM with the default view — the maps alone, then with the WebM burned in.
 */
import fs from 'node:fs';
import type { Browser } from 'playwright-core';

export interface ClipFigures {
  clip: string;
  backend: string;
  method: string;
  layer: string;
  frames: number;
  /** Explained frames per second of wall time, maps only / with the WebM encoded as well. */
  framesPerSecond: number;
  framesPerSecondWithWebm: number;
  webmBytes: number;
}

export async function clipBench(browser: Browser, appUrl: string, clipFile: string): Promise<ClipFigures> {
  const page = await browser.newPage();
  try {
    await page.goto(`${appUrl}/?backend=wasm&camera=off`);
    await page.waitForFunction(() => window.whycam?.status().ready, null, { timeout: 120_000 });
    const b64 = fs.readFileSync(clipFile).toString('base64');
    return await page.evaluate(
      async ({ b64, name }) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        if (!(await window.whycam!.openVideo(new File([bytes], name, { type: 'video/mp4' }))))
          throw new Error(`${name} did not open`);
        const maps = await window.whycam!.explainVideo({ webm: false });
        const burned = await window.whycam!.explainVideo({ webm: true });
        return {
          clip: name,
          backend: window.whycam!.status().backend ?? '',
          method: maps.method,
          layer: maps.layer,
          frames: maps.frames.length,
          framesPerSecond: maps.framesPerSecond,
          framesPerSecondWithWebm: burned.framesPerSecond,
          webmBytes: burned.webm?.size ?? 0,
        };
      },
      { b64, name: clipFile.split('/').pop()! },
    );
  } finally {
    await page.close();
  }
}

export function clipTable(c: ClipFigures): string {
  return [
    '| clip | backend | view | frames | frames/s (maps) | frames/s (maps + WebM) | WebM |',
    '|---|---|---|---|---|---|---|',
    `| ${c.clip} | ${c.backend} | ${c.method} · ${c.layer} | ${c.frames} | ${c.framesPerSecond.toFixed(1)} | ${c.framesPerSecondWithWebm.toFixed(1)} | ${(c.webmBytes / 2 ** 20).toFixed(1)} MiB |`,
  ].join('\n');
}
