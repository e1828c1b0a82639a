import path from 'node:path';
import { MODELS, type ModelEntry } from '../../models/registry.js';
import { isWhyCamError } from '../explain/errors.js';
import { modelEntry } from '../node/load-model.js';
import { checkInstalled, installModel, isUrl } from '../node/model-store.js';
import { modelsDir } from '../node/paths.js';
import { formatBytes } from '../node/progress.js';
import { parseCommand } from './args.js';

const DEFAULT_IDS = MODELS.filter((m) => m.fetch === 'default')
  .map((m) => m.id)
  .join(', ');

export const MODELS_USAGE = `Usage: whycam models [options]        (npm run models -- [options])

Downloads the registered models into models/<id>/ and verifies them (sha256 where known, and every
weight file present with the length model.json declares; a Caffe model's every file against its
sha256). Models already valid are skipped.

  --model ID       a model to fetch (repeatable; "all" for every registered model;
                   default: ${DEFAULT_IDS})
  --all            every registered model (the same as --model all)
  --from DIR|URL   copy from a mirror with the same layout (DIR/<id>/model.json, ...) instead of
                   the public home: a folder, or an http(s) URL such as an intranet server; a model
                   is also looked for under its mirror folder name (DIR/bvlc_googlenet_caffejs/, ...);
                   WHYCAM_MODEL_MIRROR=DIR|URL does the same
  --list           show the registered models, their sizes and whether each is installed
  --postinstall    as run by npm install: never fail the install, explain what to do instead

Registered: ${MODELS.map((m) => m.id).join(', ')}`;

const OPTIONS = {
  model: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  from: { type: 'string' },
  list: { type: 'boolean' },
  postinstall: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function modelsCommand(args: string[]): Promise<number> {
  const { values: o } = parseCommand(args, OPTIONS, MODELS_USAGE);
  if (o.help) {
    console.log(MODELS_USAGE);
    return 0;
  }
  const dir = modelsDir();
  if (o.list) {
    for (const m of MODELS) {
      const problem = await checkInstalled(m, dir);
      console.log(
        `${m.id.padEnd(24)} ${(problem ? 'not installed' : 'installed').padEnd(14)} ${formatBytes(m.bytes).padStart(9)}  ${m.displayName} — ${m.note}`,
      );
    }
    return 0;
  }
  const entries: ModelEntry[] =
    o.all || o.model?.includes('all')
      ? [...MODELS]
      : o.model
        ? o.model.map((id) => modelEntry(id))
        : MODELS.filter((m) => m.fetch === 'default');
  const mirrorSetting = o.from ?? process.env['WHYCAM_MODEL_MIRROR'];
  const mirror = !mirrorSetting ? undefined : isUrl(mirrorSetting) ? mirrorSetting : path.resolve(mirrorSetting);

  let failed = 0;
  for (const entry of entries) {
    try {
      const status = await installModel(entry, { dir, ...(mirror ? { mirror } : {}) });
      if (status === 'valid') console.log(`${entry.id}: already installed and valid.`);
    } catch (e) {
      if (!isWhyCamError(e)) throw e;
      failed++;
      console.error(`whycam: ${entry.id} was not installed: ${e.message.trim()}`);
    }
  }
  if (failed > 0) {
    console.error(
      [
        '',
        'WhyCam needs the model weights before it can explain anything. To get them:',
        "  npm run models                       when this machine can reach the models' homes",
        '                                       (storage.googleapis.com; raw.githubusercontent.com for the zoo models)',
        '  npm run models -- --from DIR         to copy from a local mirror (DIR/<model id>/model.json, ...)',
        '  npm run models -- --from URL         to download from a mirror server with the same layout',
        '  WHYCAM_MODEL_MIRROR=DIR npm install  the same, at install time',
      ].join('\n'),
    );
    return o.postinstall ? 0 : 1;
  }
  return 0;
}
