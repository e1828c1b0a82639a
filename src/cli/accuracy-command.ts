import fs from 'node:fs/promises';
import path from 'node:path';
import { WhyCamError } from '../explain/errors.js';
import { CROP_POLICIES } from '../explain/runtime/preprocess.js';
import { NODE_BACKENDS, useNodeBackend } from '../node/backend.js';
import { readImage } from '../node/image-io.js';
import { loadModelOption, MODEL_OPTIONS, MODEL_USAGE } from '../node/model-path.js';
import { ProgressBar } from '../node/progress.js';
import { numberIn, oneOf, parseCommand } from './args.js';

export const ACCURACY_USAGE = `Usage: whycam accuracy --images DIR [options]

Top-1 and top-5 accuracy of a model on labelled photos: DIR/labels.tsv lists each file with its
class index (tab-separated, a header row naming the columns "file" and "class_index", as the
ImageNet folders beside the project have it).

  --images DIR        the folder with the photos and labels.tsv
  --limit N           only the first N photos
  --crop P            center | full (default full: the whole picture resized, as MATLAB's classify does)
${MODEL_USAGE}
  --backend NAME      ${NODE_BACKENDS.join(' | ')} (default wasm)
  --json              print { model, n, top1, top5, msPerImage } as one JSON object`;

const OPTIONS = {
  images: { type: 'string' },
  limit: { type: 'string' },
  crop: { type: 'string' },
  ...MODEL_OPTIONS,
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The rows of a labels.tsv: file and class index, by the header's column names. */
export async function readLabelsTsv(dir: string): Promise<{ file: string; classIndex: number }[]> {
  const where = path.join(dir, 'labels.tsv');
  const text = await fs.readFile(where, 'utf8').catch(() => {
    throw new WhyCamError(
      'bad-option',
      `${where} does not exist.`,
      'The folder needs a labels.tsv: file<TAB>class_index per photo.',
    );
  });
  const [header, ...rows] = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const columns = header!.split('\t');
  const fileAt = columns.indexOf('file');
  const classAt = columns.indexOf('class_index');
  if (fileAt < 0 || classAt < 0) {
    throw new WhyCamError('bad-option', `${where} has no "file" and "class_index" columns in its header.`);
  }
  return rows.map((r, i) => {
    const cells = r.split('\t');
    const classIndex = Number(cells[classAt]);
    if (!Number.isInteger(classIndex))
      throw new WhyCamError('bad-option', `${where}, row ${i + 2}: class_index is not a number.`);
    return { file: path.join(dir, cells[fileAt]!), classIndex };
  });
}

export async function accuracyCommand(args: string[]): Promise<number> {
  const { values: o } = parseCommand(args, OPTIONS, ACCURACY_USAGE);
  if (o.help) {
    console.log(ACCURACY_USAGE);
    return 0;
  }
  if (!o.images) throw new WhyCamError('bad-option', '--images is required.', ACCURACY_USAGE);
  const crop = oneOf(o.crop, CROP_POLICIES, '--crop', 'full');
  const backend = oneOf(o.backend, NODE_BACKENDS, '--backend', 'wasm');
  const limit = numberIn(o.limit, '--limit', 1, 1e9, Infinity);
  const rows = (await readLabelsTsv(o.images)).slice(0, limit);

  await useNodeBackend(backend);
  const { explainer, name, summary } = await loadModelOption(o);
  // What was recognised and assumed of the user's own model: on stderr, also with --json.
  for (const line of summary) console.error(line);
  try {
    const bar = new ProgressBar('accuracy', rows.length);
    let top1 = 0;
    let top5 = 0;
    let ms = 0;
    for (const [i, row] of rows.entries()) {
      const image = await readImage(row.file);
      const t0 = performance.now();
      const { predictions } = await explainer.classify(image, {
        crop,
        topK: Math.min(5, explainer.network.numClasses),
      });
      ms += performance.now() - t0;
      if (predictions[0]!.classIndex === row.classIndex) top1++;
      if (predictions.some((p) => p.classIndex === row.classIndex)) top5++;
      bar.update(i + 1, path.basename(row.file));
    }
    const n = rows.length;
    const report = { model: name, n, top1: top1 / n, top5: top5 / n, msPerImage: ms / n };
    bar.finish(`accuracy: ${n} photos done.`);
    if (o.json) console.log(JSON.stringify(report));
    else {
      console.log(
        `${name} on ${n} photos of ${o.images} (crop ${crop}, ${backend}): top-1 ${top1}/${n} (${(100 * report.top1).toFixed(1)}%), top-5 ${top5}/${n} (${(100 * report.top5).toFixed(1)}%), ${report.msPerImage.toFixed(0)} ms/photo`,
      );
    }
    return 0;
  } finally {
    explainer.dispose();
  }
}
