import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { defaultView, MODELS } from '../../models/registry.js';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import { cascadeBlocks, sanityCheck } from '../../src/explain/evaluation/sanity.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { SHARED } from '../helpers/shared.js';
import { kerasSource } from '../helpers/keras-source.js';

// The sanity check (Adebayo et al. 2018) on a few dev-set photos (their ground-truth classes), at
// the layer of each registered default model's default view, with every block above that layer
// re-initialised (logits downwards, cascading). HiResCAM must pass it (mean Spearman ρ with the real
// map below 0.3, the README's limit) and LayerCAM must not: ReLU(g)·A keeps the activations' layout
// whatever the weights above. The default view (LayerCAM today) is chosen by issue 23's rule, which
// no measured map satisfies yet (docs/hirescam-results.md); the check is what that choice will gate on.

const DEV = path.join(SHARED, 'images', 'imagenet-val-bbox-300');
const PHOTOS = 5;
const LIMIT = 0.3;

const defaults = MODELS.filter((m) => m.fetch === 'default').map((m) => m.id);

test('the gate covers every default model', () => {
  expect(defaults.length).toBeGreaterThan(0);
});

describe.each(defaults)('%s', (id) => {
  let explainer: Explainer | undefined;
  afterAll(() => explainer?.dispose());

  test('at its default layer HiResCAM passes the sanity check and LayerCAM fails it', async () => {
    explainer = await mirrorExplainer('wasm', id);
    const { layer } = defaultView(id);
    const entries = (
      JSON.parse(fs.readFileSync(path.join(DEV, 'boxes.json'), 'utf8')) as { file: string; class_index: number }[]
    ).slice(0, PHOTOS);
    const images = await Promise.all(entries.map((e) => readImage(path.join(DEV, e.file))));
    // The blocks above the layer: those before the first one holding a layer at or below it.
    const order = kerasSource(explainer.network).layers.map((l) => l.name);
    const at = order.indexOf(layer);
    expect(at, `${layer} is a layer of ${id}`).toBeGreaterThan(0);
    const blocks = cascadeBlocks(explainer.network);
    const depth = blocks.findIndex((b) => b.layers.some((l) => order.indexOf(l) <= at));
    expect(depth, 'at least the logits lie above the layer').toBeGreaterThan(0);
    const report = await sanityCheck(
      explainer,
      images,
      { hirescam: { method: 'hirescam', layer }, layercam: { method: 'layercam', layer } },
      { crop: 'full', depth, classIndices: entries.map((e) => e.class_index) },
    );
    const after = (name: string): number => report.methods[name]!.spearman.at(-1)!;
    const curve = (name: string) =>
      report.blocks.map((b, i) => `${b} ${report.methods[name]!.spearman[i]!.toFixed(3)}`).join(', ');
    console.log(`sanity ${id} at ${layer}: HiResCAM ${curve('hirescam')}; LayerCAM ${curve('layercam')}`);
    expect(after('hirescam'), `HiResCAM at ${layer}: ${curve('hirescam')}`).toBeLessThan(LIMIT);
    expect(after('layercam'), `LayerCAM at ${layer}: ${curve('layercam')}`).toBeGreaterThanOrEqual(LIMIT);
  }, 600_000);
});
