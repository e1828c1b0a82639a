import { photo } from '../helpers/shared.js';
import { chooseFile, expect, test, waitForStatus } from './fixtures.js';

// The browser asks for the camera and the answer is no (no automatic consent in this browser).
test.use({ allowCamera: false });

test('a refused camera gives a message and offers the still-image mode', async ({ page }) => {
  await page.goto('/?backend=wasm');
  const notice = page.locator('whycam-notice[data-topic=camera]');
  await expect(notice).toContainText('Camera access was refused.');
  await chooseFile(page, () => notice.getByRole('button', { name: 'Open a photo' }).click(), photo('brown_bear.jpg'));
  const s = await waitForStatus(page, (x) => x.frames > 0, 60_000, 'the photo explained');
  expect(s.mode).toBe('image');
  expect(s.predictions[0]!.label).toBe('brown bear');
});
