import fs from 'node:fs';
import { SHARED } from '../helpers/shared.js';
import { trainingPhotos } from '../helpers/teach-photos.js';
import { status, test, waitForStatus } from './fixtures.js';

test('debug teach', async ({ page }) => {
  test.setTimeout(100_000);
  page.on('console', (m) => console.log('console', m.type(), m.text().slice(0, 300)));
  page.on('worker', (w) => console.log('worker', w.url()));
  await page.goto('/?backend=wasm&camera=off');
  await waitForStatus(page, (s) => s.ready, 60_000);
  const photos = trainingPhotos(SHARED, 2).slice(0, 2).map((c) => c.map((p) => [...fs.readFileSync(p.file)]));
  void page.evaluate(async (classes) => window.whycam!.teach({
    classes: classes.map((bytes, i) => ({ name: `c${i}`, images: bytes.map((b) => new Blob([new Uint8Array(b)], { type: 'image/jpeg' })) })),
  }).then((r) => console.log('taught', JSON.stringify(r)), (e: Error) => console.log('teach failed', e.message)), photos);
  for (let i = 0; i < 12; i++) {
    await page.waitForTimeout(5000);
    const s = await status(page);
    console.log(JSON.stringify({ teach: s.teach, model: s.model, notices: s.notices, restarts: s.workerRestarts }));
  }
});
