import { expect, test } from 'vitest';
import type { Explanation, ExplainRequest } from '../../src/explain/methods/types.js';
import { readImage } from '../../src/node/image-io.js';
import { mirrorExplainer } from '../helpers/engine.js';
import { photo } from '../helpers/shared.js';
import { maxAbsDiff } from '../helpers/stats.js';

// The same engine code on WASM must give what the reference cpu backend gives.
const REQUESTS: ExplainRequest[] = [
  { method: 'cam' },
  { method: 'gradcam' },
  { method: 'gradcam', reduction: 'softmax' },
  { method: 'gradcam++' },
  { method: 'layercam' },
  { method: 'gradcam', layer: 'conv_pw_11_relu' },
  { method: 'gradcam++', layer: 'conv_pw_11_relu' },
  { method: 'layercam', layer: 'conv_pw_11_relu' },
];

async function run(backend: 'cpu' | 'wasm', file: string): Promise<Explanation[]> {
  const explainer = await mirrorExplainer(backend);
  try {
    return await explainer.explainMany(await readImage(photo(file)), REQUESTS, { crop: 'full' });
  } finally {
    explainer.dispose();
  }
}

test.each(['sherlock_golden_retriever.jpg', 'brown_bear.jpg'])(
  'WASM matches the cpu backend within 1e-4 on %s, at the last and a 14×14 layer',
  async (file) => {
    const cpu = await run('cpu', file);
    const wasm = await run('wasm', file);
    for (const [i, reference] of cpu.entries()) {
      const r = wasm[i]!;
      const what = `${r.method} ${r.reduction} ${r.layer}`;
      expect(r.layer).toBe(reference.layer);
      expect(r.heatmap.width, what).toBe(reference.heatmap.width);
      expect(maxAbsDiff(r.heatmap.data, reference.heatmap.data), what).toBeLessThan(1e-4);
      expect(
        r.predictions.map((p) => p.classIndex),
        what,
      ).toEqual(reference.predictions.map((p) => p.classIndex));
      expect(
        maxAbsDiff(
          r.predictions.map((p) => p.score),
          reference.predictions.map((p) => p.score),
        ),
        what,
      ).toBeLessThan(1e-4);
      expect(r.target.classIndex).toBe(reference.target.classIndex);
    }
    expect(cpu[5]!.heatmap.width).toBe(14);
  },
);
