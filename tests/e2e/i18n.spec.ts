import fs from 'node:fs';
import { readPngText } from '../../src/app/png-text.js';
import { photo } from '../helpers/shared.js';
import { expect, openPhoto, set, status, test, waitForStatus } from './fixtures.js';

// Russian and English: chosen by ?lang=, by the browser's languages, or in the header; remembered.

test("?lang=ru shows the controls, the help and a saved picture's title in Russian", async ({ page }, info) => {
  await page.goto('/?backend=wasm&camera=off&lang=ru');
  await waitForStatus(page, (s) => s.ready && s.lang === 'ru', 60_000, 'ready in Russian');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  const controls = page.locator('whycam-controls');
  await expect(controls.getByRole('button', { name: /Открыть фото/ })).toBeVisible();
  await expect(controls.getByLabel(/Метод/)).toBeVisible();
  await expect(page.locator('whycam-live-view')).toContainText('Камеры нет');

  await page.keyboard.press('?');
  const help = page.locator('whycam-help').getByRole('dialog', { name: 'Сочетания клавиш' });
  await expect(help).toBeVisible();
  await expect(help).toContainText('следующий метод');
  await expect(help).toContainText('пробел');
  await help.getByRole('button', { name: 'Закрыть' }).click();
  await expect(help).toBeHidden();

  await openPhoto(page, photo('sherlock_golden_retriever.jpg'));
  await waitForStatus(page, (s) => s.frames > 0 && s.mode === 'image', 60_000, 'the photo explained');
  await expect(page.locator('whycam-hud')).toContainText('карт/с');
  const download = page.waitForEvent('download');
  await page.keyboard.press('w');
  const file = await download;
  const saved = info.outputPath(file.suggestedFilename());
  await file.saveAs(saved);
  // The title band's text, as the PNG's Title chunk repeats it: class names stay English, the rest is Russian.
  const title = readPngText(new Uint8Array(fs.readFileSync(saved)), 'Title');
  expect(title).toMatch(/^golden retriever \([01]\.\d\d\) — HiResCAM, слой conv_pw_\d+_relu$/);
});

test.describe('in a browser set to Russian', () => {
  test.use({ locale: 'ru-RU' });

  test('follows the browser, switches live in the header, and remembers the choice across a reload', async ({
    page,
  }) => {
    await page.goto('/?backend=wasm&camera=off');
    await waitForStatus(page, (s) => s.ready && s.lang === 'ru', 60_000, 'ready in Russian');
    const controls = page.locator('whycam-controls');
    await expect(controls.getByRole('button', { name: /Открыть фото/ })).toBeVisible();

    // The header's language menu: every element changes at once, without a reload.
    const menu = page.locator('whycam-header').getByRole('combobox', { name: 'Язык' });
    await menu.selectOption('en');
    await expect(controls.getByRole('button', { name: /Open photo/ })).toBeVisible();
    await expect(page.locator('whycam-header')).toContainText('why did the network decide that?');
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    expect((await status(page)).lang).toBe('en');

    await page.reload();
    await waitForStatus(page, (s) => s.ready, 60_000, 'ready after the reload');
    expect((await status(page)).lang).toBe('en');
    await expect(controls.getByRole('button', { name: /Open photo/ })).toBeVisible();
    await expect(page.locator('whycam-header').getByRole('combobox', { name: 'Language' })).toHaveValue('en');

    // And through the automation API.
    await set(page, { lang: 'ru' });
    await waitForStatus(page, (s) => s.lang === 'ru', 10_000, 'Russian again');
    await expect(controls.getByRole('button', { name: /Открыть фото/ })).toBeVisible();
    await expect(page.evaluate(() => window.whycam!.set({ lang: 'de' as 'ru' }))).rejects.toThrow(/Unknown lang de/);
  });
});
