import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';
import { MODELS } from '../models/registry.js';

const SAFE_NAME = /^[\w.-]+$/;

/**
 * Serves the installed models at /models/<id>/<file> during development and copies the default
 * ones into the build, so the app (and its offline cache) has its weights without any CDN.
 */
export function modelsPlugin(modelsDir: string): Plugin {
  const fileOf = (url: string): string | undefined => {
    const m = /^\/models\/([^/]+)\/([^/?#]+)/.exec(url);
    if (!m || !MODELS.some((e) => e.id === m[1]) || !SAFE_NAME.test(m[2]!)) return undefined;
    return path.join(modelsDir, m[1]!, m[2]!);
  };
  return {
    name: 'whycam-models',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        // Only /models/<registered id>/<file>: the registry's own source (/models/registry.ts) is the app's.
        const file = req.url ? fileOf(req.url) : undefined;
        if (!file) return next();
        if (!fs.existsSync(file)) {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        fs.createReadStream(file).pipe(res);
      });
    },
    generateBundle() {
      for (const entry of MODELS.filter((m) => m.fetch === 'default')) {
        const folder = path.join(modelsDir, entry.id);
        const manifest = path.join(folder, 'model.json');
        if (!fs.existsSync(manifest)) {
          this.warn(
            `model ${entry.id} is not installed in ${folder}: the app will report it missing. Run: npm run models`,
          );
          continue;
        }
        const { weightsManifest } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as {
          weightsManifest: { paths: string[] }[];
        };
        for (const name of ['model.json', ...weightsManifest.flatMap((g) => g.paths)]) {
          const file = path.join(folder, name);
          if (!fs.existsSync(file)) {
            this.warn(`model ${entry.id} lacks ${name}: the app will report it missing. Run: npm run models`);
            continue;
          }
          this.emitFile({ type: 'asset', fileName: `models/${entry.id}/${name}`, source: fs.readFileSync(file) });
        }
      }
    },
  };
}
