import path from 'node:path';
import { MODELS, type ModelEntry } from '../../models/registry.js';
import { isWhyCamError } from '../explain/errors.js';
import { modelEntry } from '../node/load-model.js';
import { checkInstalled, installModel, isUrl } from '../node/model-store.js';
import { modelsDir } from '../node/paths.js';
import { parseCommand } from './args.js';

export const MODELS_USAGE = `Usage: whycam models [options]        (npm run models -- [options])

Downloads the registered models into models/<id>/ and verifies them (sha256 where known, and every
weight file present with the length model.json declares). Models already valid are skipped.

  --model ID       a model to fetch (repeatable; default: ${MODELS.filter((m) => m.fetch === 'default')
    .map((m) => m.id)
    .join(', ')})
  --all            every registered model
  --from DIR|URL   copy from a mirror with the same layout (DIR/<id>/model.json, ...) instead of
                   the public home: a folder, or an http(s) URL such as an intranet server;
                   WHYCAM_MODEL_MIRROR=DIR|URL does the same
  --list           show the registered models and whether each is installed
  --postinstall    as run by npm install: never fail the install, explain what to do instead`;

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
        `${m.id.padEnd(24)} ${(problem ? 'not installed' : 'installed').padEnd(14)} ${m.displayName} — ${m.note}`,
      );
    }
    return 0;
  }
  const entries: ModelEntry[] = o.all
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
        '  npm run models                       when this machine can reach storage.googleapis.com',
        '  npm run models -- --from DIR         to copy from a local mirror (DIR/<model id>/model.json, ...)',
        '  npm run models -- --from URL         to download from a mirror server with the same layout',
        '  WHYCAM_MODEL_MIRROR=DIR npm install  the same, at install time',
      ].join('\n'),
    );
    return o.postinstall ? 0 : 1;
  }
  return 0;
}
