import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchWebKit, type WebKitPage, type WebKitSession } from '../../scripts/webkit.js';
import { SHORTCUTS } from '../../src/app/shortcuts.js';
import { StaticServer } from '../../src/node/static-server.js';
import { ROOT } from '../helpers/shared.js';
import { APP_DIR, status, waitForStatus } from './app.js';

// How WhyCam looks and is used in WebKit at iPad sizes, by touch: the controls readable (WebKit
// draws native menu buttons white, whatever the page's colours), nothing wider than the screen,
// every keyboard shortcut a button, presentation mode on and off by tapping.

/** WCAG contrast ratio of two sRGB colours (0–255). */
function contrast(a: number[], b: number[]): number {
  const lum = (c: number[]) => {
    const [r, g, bl] = c.map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/**
 * The contrast of a control's text with its background, read off the screenshot: the commonest
 * colour in the box is the background, the pixel farthest from it the text (the left three
 * quarters only, so that the menu arrow does not count).
 */
function textContrast(png: PNG, box: { x: number; y: number; width: number; height: number }): number {
  const counts = new Map<number, number>();
  const pixels: number[][] = [];
  for (let y = Math.ceil(box.y + 3); y < box.y + box.height - 3; y++) {
    for (let x = Math.ceil(box.x + 3); x < box.x + box.width * 0.75; x++) {
      const i = (y * png.width + x) * 4;
      const c = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
      pixels.push(c);
      const key = (c[0]! << 16) | (c[1]! << 8) | c[2]!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const bgKey = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  const bg = [(bgKey >> 16) & 255, (bgKey >> 8) & 255, bgKey & 255];
  return Math.max(...pixels.map((c) => contrast(c, bg)));
}

/** Boxes (viewport pixels) of the selects in the controls panel, by id. */
function selectBoxes(page: WebKitPage) {
  return page.evaluate(() => {
    const controls = document.querySelector('whycam-app')!.shadowRoot!.querySelector('whycam-controls')!.shadowRoot!;
    return Array.from(controls.querySelectorAll('select'))
      .filter((s) => s.getBoundingClientRect().bottom < innerHeight && s.getBoundingClientRect().height > 0)
      .map((s) => {
        const r = s.getBoundingClientRect();
        return { id: s.id, x: r.x, y: r.y, width: r.width, height: r.height };
      });
  });
}

/** Elements wider than the viewport (their right edge past it), through shadow roots. */
function overflowing(page: WebKitPage) {
  return page.evaluate(() => {
    const out: string[] = [];
    const walk = (root: Document | ShadowRoot): void => {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.right > innerWidth + 0.5) out.push(`${el.tagName.toLowerCase()} ${Math.round(r.right)}`);
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth, out };
  });
}

/** A real pointer tap (WebDriver's element click) on an element found by a script through shadow roots. */
async function tap(page: WebKitPage, script: string): Promise<void> {
  await page.click(await page.element(script));
}

const APP = "document.querySelector('whycam-app').shadowRoot";

for (const [width, height] of [
  [1024, 768],
  [768, 1024],
] as const) {
  describe(`WebKit at ${width}×${height} (an iPad ${width > height ? 'held sideways' : 'upright'})`, () => {
    const server = new StaticServer(APP_DIR);
    let webkit: WebKitSession;
    let page: WebKitPage;

    beforeAll(async () => {
      await server.start();
      webkit = await launchWebKit({ camera: 'mock', width, height });
      page = webkit.page;
      await page.goto(`${server.url}/`);
      await waitForStatus(page, (x) => x.mode === 'camera' && x.frames > 2, 'heatmaps from the camera');
    });
    afterAll(async () => {
      await webkit?.close();
      await server.stop();
    });

    it('nothing is wider than the screen, and every menu reads clearly', async () => {
      const o = await overflowing(page);
      expect(o.out).toEqual([]);
      expect(o.scrollWidth).toBe(width);
      const first = PNG.sync.read(await page.screenshot());
      expect([first.width, first.height]).toEqual([width, height]);
      if (width === 1024) {
        fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
        fs.writeFileSync(path.join(ROOT, 'test-results', 'webkit-1024x768.png'), PNG.sync.write(first));
      }
      // The menus in view (upright, they are below the picture).
      await page.evaluate(() =>
        document
          .querySelector('whycam-app')!
          .shadowRoot!.querySelector('whycam-controls')!
          .shadowRoot!.querySelector('#method')!
          .scrollIntoView({ block: 'start' }),
      );
      const png = PNG.sync.read(await page.screenshot());
      const boxes = await selectBoxes(page);
      expect(boxes.length).toBeGreaterThanOrEqual(3);
      for (const box of boxes) expect(textContrast(png, box), `#${box.id}`).toBeGreaterThan(4.5);
    });

    it('by touch: the help opens from its button, and every shortcut there is a button that does it', async () => {
      await tap(page, `${APP}.querySelector('whycam-controls').shadowRoot.querySelector('button[data-control=help]')`);
      await expect
        .poll(() =>
          page.evaluate(() =>
            document.querySelector('whycam-app')!.shadowRoot!.querySelector('whycam-help')!.hasAttribute('open'),
          ),
        )
        .toBe(true);
      const actions = await page.evaluate(() =>
        Array.from(
          document
            .querySelector('whycam-app')!
            .shadowRoot!.querySelector('whycam-help')!
            .shadowRoot!.querySelectorAll('button[data-action]'),
        ).map((b) => b.getAttribute('data-action')),
      );
      expect(actions).toEqual(SHORTCUTS.map((s) => s.action));
      // Tapping "mirror" mirrors the view, and the help stays open to tap again.
      const before = (await status(page))!.settings.mirror;
      await tap(page, `${APP}.querySelector('whycam-help').shadowRoot.querySelector('button[data-action=mirror]')`);
      await expect.poll(async () => (await status(page))!.settings.mirror).toBe(!before);
      await tap(page, `${APP}.querySelector('whycam-help').shadowRoot.querySelector('button[data-action=mirror]')`);
      await expect.poll(async () => (await status(page))!.settings.mirror).toBe(before);
      await tap(page, `${APP}.querySelector('whycam-help').shadowRoot.querySelector('button[data-action=close]')`);
      await expect
        .poll(() =>
          page.evaluate(() =>
            document.querySelector('whycam-app')!.shadowRoot!.querySelector('whycam-help')!.hasAttribute('open'),
          ),
        )
        .toBe(false);
    });

    it('presentation mode by touch: the picture fills the screen, and a tap brings the button to leave', async () => {
      await tap(
        page,
        `${APP}.querySelector('whycam-controls').shadowRoot.querySelector('button[data-control=presentation]')`,
      );
      await expect.poll(async () => (await status(page))!.settings.presentation).toBe(true);
      const s = await waitForStatus(page, (x) => x.frames > 0, 'heatmaps in presentation mode');
      const view = await page.evaluate(() => {
        const r = document
          .querySelector('whycam-app')!
          .shadowRoot!.querySelector('whycam-live-view')!
          .getBoundingClientRect();
        return { width: r.width, height: r.height };
      });
      // Side by side with the screen's own shape: the picture takes the whole of one dimension.
      expect(Math.max(view.width / width, view.height / height)).toBeGreaterThan(0.97);
      expect(s.error).toBeNull();
      await tap(
        page,
        `${APP}.querySelector('whycam-controls').shadowRoot.querySelector('button[data-control=presentation]')`,
      );
      await expect.poll(async () => (await status(page))!.settings.presentation).toBe(false);
    });
  });
}
