import fs from 'node:fs/promises';
import path from 'node:path';
import { isWhyCamError, WhyCamError } from '../explain/errors.js';
import type { ExplainRequest } from '../explain/methods/types.js';
import { METHODS, REDUCTIONS } from '../explain/methods/names.js';
import { CROP_POLICIES } from '../explain/runtime/preprocess.js';
import { sanityCheck } from '../explain/evaluation/sanity.js';
import { NODE_BACKENDS, useNodeBackend } from '../node/backend.js';
import { readImage } from '../node/image-io.js';
import { loadModelOption, MODEL_OPTIONS, MODEL_USAGE } from '../node/model-path.js';
import { ProgressBar } from '../node/progress.js';
import { listOf, numberIn, oneOf, parseCommand } from './args.js';
import { collectImages } from './images.js';

/** A method passes when, with every block re-initialised, its map keeps less than this rank correlation with the original. */
const PASS_BELOW = 0.3;

export const SANITY_USAGE = `Usage: whycam sanity --images DIR [options]

The model-randomisation sanity check (Adebayo et al. 2018): re-initialises the network block by
block from the logits downwards (on a copy; the stored model is untouched), recomputes each
method's map for the same class, and reports the Spearman rank correlation with the original map
after each block. A map that survives the randomisation does not explain the network: a method
passes when its mean correlation has fallen below ${PASS_BELOW} once every block is re-initialised.

Defaults: every gradient method at the last conv map, where all four are defined and CAM is exact,
so that they are compared on the same layer; name others with --layer.

  --images DIR        the pictures (a boxes.json there, or --boxes, gives the classes to explain;
                      otherwise, and for a model given as a folder or zip, the original network's top-1)
  --boxes FILE        [{file, class_index, ...}, ...] as for whycam eval
  --method LIST       comma-separated: ${METHODS.join(', ')} (default: all)
  --layer LIST        comma-separated feature layers, or auto (default auto)
  --reduction R       ${REDUCTIONS.join(' | ')} (default logit)
  --limit N           only the first N pictures (default 15)
  --depth N           re-initialise only the top N blocks (default: all)
  --seed N            seed of the re-initialisation (default 1)
  --crop P            center | full (default full; center for a Teachable Machine or taught model)
${MODEL_USAGE}
  --backend NAME      ${NODE_BACKENDS.join(' | ')} (default wasm)
  --json              print { methods: { <name>: { blocks: [...], spearman: [...] } }, ... }`;

const OPTIONS = {
  images: { type: 'string' },
  boxes: { type: 'string' },
  method: { type: 'string' },
  layer: { type: 'string' },
  reduction: { type: 'string' },
  limit: { type: 'string' },
  depth: { type: 'string' },
  seed: { type: 'string' },
  crop: { type: 'string' },
  ...MODEL_OPTIONS,
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface SanityCommandReport {
  n: number;
  model: string;
  crop: string;
  seed: number;
  /** Per method (named as --method names it, `method@layer` with several layers). */
  methods: Record<string, { blocks: string[]; spearman: number[]; passes: boolean }>;
  passBelow: number;
}

export async function sanityCommand(args: string[]): Promise<number> {
  const { values: o } = parseCommand(args, OPTIONS, SANITY_USAGE);
  if (o.help) {
    console.log(SANITY_USAGE);
    return 0;
  }
  if (!o.images) throw new WhyCamError('bad-option', 'sanity needs --images.', SANITY_USAGE);
  const methods = listOf(o.method, METHODS, '--method', METHODS);
  const reduction = oneOf(o.reduction, REDUCTIONS, '--reduction', 'logit');
  const cropOption = oneOf(o.crop, CROP_POLICIES, '--crop', 'full');
  const backend = oneOf(o.backend, NODE_BACKENDS, '--backend', 'wasm');
  const limit = numberIn(o.limit, '--limit', 1, 1e6, 15);
  const seed = numberIn(o.seed, '--seed', 0, 2 ** 31, 1);
  const files = (await collectImages([o.images])).slice(0, limit);

  await useNodeBackend(backend);
  const { explainer, name: modelId, crop: trainedCrop, summary } = await loadModelOption(o);
  // What was recognised and assumed of the user's own model: on stderr, also with --json.
  for (const line of summary) console.error(line);
  const crop = o.crop === undefined ? (trainedCrop ?? cropOption) : cropOption;
  // A boxes.json beside ImageNet photos names ImageNet classes: a Teachable Machine or taught model
  // (one with a trained crop) has its own classes, so it is read only when named with --boxes.
  const classes =
    o.boxes !== undefined || trainedCrop === null
      ? await groundTruth(o.boxes ?? path.join(o.images, 'boxes.json'), o.boxes !== undefined)
      : new Map<string, number>();
  try {
    const layers = [...new Set((o.layer ?? 'auto').split(',').map((l) => explainer.network.layer(l.trim()).name))];
    const requests: Record<string, ExplainRequest> = {};
    for (const layer of layers) {
      for (const method of methods) {
        const request = { method, layer, reduction };
        try {
          explainer.resolve(request);
        } catch (e) {
          if (isWhyCamError(e) && e.code === 'method-unavailable') continue;
          throw e;
        }
        requests[layers.length > 1 ? `${method}@${layer}` : method] = request;
      }
    }
    const depth = o.depth === undefined ? undefined : numberIn(o.depth, '--depth', 1, 1000, 1);
    const images = await Promise.all(files.map((f) => readImage(f)));
    const bar = new ProgressBar('sanity', 1, (d, t) => `${d}/${t} maps`);
    const result = await sanityCheck(explainer, images, requests, {
      crop,
      seed,
      ...(depth !== undefined ? { depth } : {}),
      classIndices: files.map((f) => classes.get(path.basename(f)) ?? null),
      onProgress: (done, total) => bar.update(done, '', total),
    });
    bar.finish(
      `sanity: ${images.length} images, ${Object.keys(requests).length} methods, ${result.blocks.length} blocks.`,
    );
    const report: SanityCommandReport = {
      n: images.length,
      model: modelId,
      crop,
      seed,
      passBelow: PASS_BELOW,
      methods: Object.fromEntries(
        Object.entries(result.methods).map(([name, m]) => [
          name,
          {
            blocks: result.blocks,
            spearman: m.spearman,
            passes: m.spearman[m.spearman.length - 1]! < PASS_BELOW,
          },
        ]),
      ),
    };
    console.log(o.json ? JSON.stringify(report) : formatSanity(report));
    return 0;
  } finally {
    explainer.dispose();
  }
}

/** Ground-truth classes by file name, when a boxes.json is there (required only when named with --boxes). */
async function groundTruth(file: string, required: boolean): Promise<Map<string, number>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (!required) return new Map();
    throw new WhyCamError(
      'bad-option',
      `${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
    );
  }
  try {
    const entries = JSON.parse(text) as { file: string; class_index: number }[];
    return new Map(entries.map((e) => [e.file, e.class_index]));
  } catch (e) {
    throw new WhyCamError('bad-option', `${file} cannot be read as JSON (${(e as Error).message}).`);
  }
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** ρ from −1…1 as one of eight bar heights (ρ ≤ 0 is the lowest). */
function sparkline(values: readonly number[]): string {
  return values.map((v) => SPARKS[Math.min(7, Math.max(0, Math.round(Math.max(0, v) * 7)))]!).join('');
}

function formatSanity(r: SanityCommandReport): string {
  const names = Object.keys(r.methods);
  const blocks = r.methods[names[0]!]?.blocks ?? [];
  const header = ['re-initialised down to', ...names];
  const lines = blocks.map((b, i) => [b, ...names.map((n) => r.methods[n]!.spearman[i]!.toFixed(3))]);
  lines.push(['(curve)', ...names.map((n) => sparkline(r.methods[n]!.spearman))]);
  lines.push(['passes', ...names.map((n) => (r.methods[n]!.passes ? 'yes' : 'NO'))]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const row = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    `whycam sanity: ${r.n} images, model ${r.model}, crop ${r.crop}, seed ${r.seed}; mean Spearman ρ between each method's map and its map on the ` +
      `network re-initialised from the logits down to the named block (1 = unchanged, 0 = unrelated)`,
    row(header),
    row(widths.map((w) => '-'.repeat(w))),
    ...lines.map(row),
    `A method passes when ρ < ${r.passBelow} once every block is re-initialised: its map depends on the network's weights.`,
  ].join('\n');
}
