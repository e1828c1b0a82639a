import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import type { WhyCamImageResult, WhyCamSet, WhyCamStatus } from '../../src/app/automation.js';
import { SHARED } from '../helpers/shared.js';
import { expect, test, waitForStatus } from './fixtures.js';

// "A result always belongs to the picture it explains" (issue 17): while a new photo or model is
// being explained, `status()` never reports an earlier picture's, setting's or model's result as
// the new one's, and `openImage` resolves with the photo's own result. The expected classes come
// from the samples' ImageNet labels (labels.tsv), not from WhyCam.

const SAMPLES = path.join(SHARED, 'images', 'imagenet-samples');
const LABELS = new Map(
  fs
    .readFileSync(path.join(SAMPLES, 'labels.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'))
    .map(([file, classIndex, , name]) => [file!, { classIndex: Number(classIndex), label: name! }]),
);
const GOLDFISH = 'n01443537_goldfish.jpg';
const LEMON = 'n07749582_lemon.jpg';
const FAST = 'mobilenet_v1_0.25_224';

/** What one look at `status()` said. */
type Seen = Pick<WhyCamStatus, 'mode' | 'model' | 'request' | 'answers' | 'target' | 'ready'>;

/**
 * Runs `action` in the page (open a photo, or change a setting) and looks at `status()` right
 * after it and at every animation frame until `until` holds; returns what `action` resolved with
 * and every status seen.
 */
async function watch(
  page: Page,
  action: { open: string } | { set: WhyCamSet },
  until: 'resolved' | { model: string },
): Promise<{ result: WhyCamImageResult | null; seen: Seen[] }> {
  const bytes = 'open' in action ? [...fs.readFileSync(path.join(SAMPLES, action.open))] : null;
  return page.evaluate(
    async ({ bytes, set, until }) => {
      const w = window.whycam!;
      const look = (): Seen => {
        const s = w.status();
        return {
          mode: s.mode,
          model: s.model,
          request: s.request,
          answers: s.answers,
          target: s.target,
          ready: s.ready,
        };
      };
      let result: WhyCamImageResult | null = null;
      let resolved = false;
      if (bytes) {
        void w.openImage(new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' })).then((r) => {
          // Looked at as the promise resolves: the status must already show this result.
          seen.push(look());
          result = r;
          resolved = true;
        });
      } else {
        w.set(set!);
      }
      const seen: Seen[] = [look()];
      const done = (): boolean =>
        until === 'resolved' ? resolved : look().model === until.model && look().target !== null;
      while (!done()) {
        await new Promise((r) => requestAnimationFrame(r));
        seen.push(look());
      }
      return { result, seen };
    },
    { bytes, set: 'set' in action ? action.set : null, until },
  );
}

/** Every status seen reports either no result or one answering the current request, and of this picture. */
function expectOnly(seen: Seen[], label: string, model: string | null = null): void {
  const wrong = seen.filter(
    (s) =>
      s.target !== null &&
      (s.answers?.request !== s.request ||
        (s.request === seen.at(-1)!.request && (s.target.label !== label || (model && s.answers?.model !== model)))),
  );
  expect(wrong, 'a status that reports another picture’s, setting’s or model’s result').toEqual([]);
}

test('camera → photo → photo → model switch: each status and openImage answer with their own picture', async ({
  page,
}) => {
  await page.goto('/?backend=wasm');
  // The camera (a Pomeranian on a sofa) is explained.
  const live = await waitForStatus(
    page,
    (s) => s.mode === 'camera' && s.answers?.source === 'camera' && s.target !== null,
    90_000,
    'the camera explained',
  );
  expect(live.target!.label).not.toBe(LABELS.get(GOLDFISH)!.label);

  // camera → photo: from the call on, never the camera's prediction for the photo.
  const goldfish = LABELS.get(GOLDFISH)!;
  const first = await watch(page, { open: GOLDFISH }, 'resolved');
  expect(first.result).toMatchObject({ target: goldfish });
  expect(first.result!.target.score).toBeGreaterThan(0.9);
  expect(first.seen.at(-1)).toMatchObject({
    mode: 'image',
    target: goldfish,
    answers: { source: 'image', id: first.result!.imageId, request: first.result!.request },
  });
  expectOnly(
    first.seen.filter((s) => s.mode === 'image'),
    goldfish.label,
  );

  // photo → photo: the goldfish is never reported as the lemon.
  const lemon = LABELS.get(LEMON)!;
  const second = await watch(page, { open: LEMON }, 'resolved');
  expect(second.result?.target).toMatchObject(lemon);
  expect(second.result!.request).toBeGreaterThan(first.result!.request);
  expect(second.seen.at(-1)).toMatchObject({
    target: lemon,
    answers: { source: 'image', request: second.result!.request },
  });
  expectOnly(second.seen, lemon.label);

  // Model switch: the lemon as the fast model sees it, never the previous model's result under the new model.
  const switched = await watch(page, { set: { model: FAST } }, { model: FAST });
  expect(switched.seen.at(-1)).toMatchObject({ model: FAST, target: lemon, answers: { source: 'image', model: FAST } });
  expectOnly(switched.seen, lemon.label, FAST);
  expect(switched.seen.filter((s) => s.model === FAST && s.target && s.answers?.model !== FAST)).toEqual([]);
});
