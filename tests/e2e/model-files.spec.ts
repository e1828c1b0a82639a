import { chooseFile, expect, status, test, waitForStatus } from './fixtures.js';

// Model files the page cannot use, picked as a user would: the worker reads them (the page never
// unzips), and the notice says which file and what is wrong with it.

test('a broken zip picked as a model: the notice names the file and says it is not a valid zip', async ({ page }) => {
  await page.goto('/?backend=wasm&camera=off');
  const before = await waitForStatus(page, (s) => s.ready, 90_000);
  // A zip's signature, then nothing a zip reader can make sense of (a download cut short).
  const broken = Buffer.from([0x50, 0x4b, 0x03, 0x04, ...Array.from({ length: 64 }, (_, i) => (i * 37) % 256)]);
  await chooseFile(page, () => page.locator('whycam-teach-panel [data-teach="open-files"]').click(), [
    { name: 'lesson 3.zip', mimeType: 'application/zip', buffer: broken },
  ]);
  const notice = page.locator('whycam-notice[data-topic="model-files"]');
  await expect(notice).toContainText('lesson 3.zip is not a readable zip archive');
  const after = await status(page);
  expect(after.ready).toBe(true);
  expect(after.model).toBe(before.model);

  // The same through the automation API: it rejects with that message.
  const error = await page.evaluate(() =>
    window.whycam!.openModel([new File([new Uint8Array([0x50, 0x4b, 0x03, 0x04, 9, 9, 9])], 'cut.zip')]).then(
      () => null,
      (e: Error) => e.message,
    ),
  );
  expect(error).toMatch(/^cut\.zip is not a readable zip archive/);
  await expect(notice).toContainText('cut.zip');
});
