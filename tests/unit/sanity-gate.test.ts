import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { defaultView, MODELS } from '../../models/registry.js';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { isMethod } from '../../src/explain/methods/names.js';
import type { ExplainRequest } from '../../src/explain/methods/types.js';
import { cascadeBlocks, sanityCheck } from '../../src/explain/evaluation/sanity.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { SHARED } from '../helpers/shared.js';

// The sanity check (Adebayo et al. 2018) as a gate: the view each registered default model shows
// first must depend on the weights above its layer. With every block above the layer re-initialised
// (logits downwards, cascading), the mean Spearman ρ between its map and the real one on a few dev-set
// photos (their ground-truth classes) must be below 0.3 — the README's rule for the default view.
// WHYCAM_GATE_VIEW=method@layer checks another view in place of the registry's (to try a candidate).

const DEV = path.join(SHARED, 'images', 'imagenet-val-bbox-300');
const PHOTOS = 5;
const LIMIT = 0.3;

function gatedView(id: string): ExplainRequest & { method: string; layer: string } {
  const override = process.env['WHYCAM_GATE_VIEW'];
  if (override) {
    const [method, layer] = override.split('@');
    if (!method || !layer || !isMethod(method)) throw new Error(`WHYCAM_GATE_VIEW=${override}: want method@layer`);
    return { method, layer };
  }
  return defaultView(id);
}

const defaults = MODELS.filter((m) => m.fetch === 'default').map((m) => m.id);

test('the gate covers every default model', () => {
  expect(defaults.length).toBeGreaterThan(0);
});

describe.each(defaults)('%s', (id) => {
  let explainer: Explainer | undefined;
  afterAll(() => explainer?.dispose());

  test('its default view passes the sanity check with every block above its layer re-initialised', async () => {
    explainer = await mirrorExplainer('wasm', id);
    const view = gatedView(id);
    const entries = (
      JSON.parse(fs.readFileSync(path.join(DEV, 'boxes.json'), 'utf8')) as { file: string; class_index: number }[]
    ).slice(0, PHOTOS);
    const images = await Promise.all(entries.map((e) => readImage(path.join(DEV, e.file))));
    // The blocks above the layer: those before the first one holding a layer at or below it.
    const order = explainer.network.model.layers.map((l) => l.name);
    const at = order.indexOf(view.layer);
    expect(at, `${view.layer} is a layer of ${id}`).toBeGreaterThan(0);
    const blocks = cascadeBlocks(explainer.network);
    const depth = blocks.findIndex((b) => b.layers.some((l) => order.indexOf(l) <= at));
    expect(depth, 'at least the logits lie above the layer').toBeGreaterThan(0);
    const report = await sanityCheck(
      explainer,
      images,
      { view },
      { crop: 'full', depth, classIndices: entries.map((e) => e.class_index) },
    );
    const rho = report.methods['view']!.spearman;
    const curve = report.blocks.map((b, i) => `${b} ${rho[i]!.toFixed(3)}`).join(', ');
    console.log(`sanity gate ${id} ${view.method}@${view.layer}: ${curve}`);
    expect(rho.at(-1)!, `${view.method} at ${view.layer}, ρ after: ${curve}`).toBeLessThan(LIMIT);
  }, 600_000);
});
