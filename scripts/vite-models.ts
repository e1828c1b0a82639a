import fs from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Plugin } from 'vite';
import { findModel, MODELS } from '../models/registry.js';
import { isSafeModelPath, readVerifiedEntry } from '../src/explain/models/model-files.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.json': 'application/json',
  '.prototxt': 'text/plain; charset=utf-8',
};

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * Serves the installed models at /models/<id>/<file> (sub-folders too: a caffe model's
 * weights/<layer>_filter.bin) in development and preview, and copies into the build the default
 * models and every on-request model that is installed, so the app (and its offline cache) has its
 * weights without any CDN.
 */
export function modelsPlugin(modelsDir: string): Plugin {
  const fileOf = (url: string): string | undefined => {
    const m = /^\/models\/([^/?#]+)\/([^?#]+)/.exec(url);
    // Only /models/<registered id>/<safe path>: the registry's own source (/models/registry.ts) is the app's.
    if (!m || !findModel(m[1]!) || !isSafeModelPath(m[2]!)) return undefined;
    return path.join(modelsDir, m[1]!, m[2]!);
  };
  /**
   * `fallThrough`: in preview, a file not in models/ may still be in the build (dist/models/…);
   * in development there is nowhere else, and a 404 beats the SPA fallback's HTML page.
   */
  const serve =
    (fallThrough: boolean, headers: OutgoingHttpHeaders = {}): Middleware =>
    (req, res, next) => {
      const file = req.url && (req.method === 'GET' || req.method === 'HEAD') ? fileOf(req.url) : undefined;
      if (!file) return next();
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (!stat?.isFile()) {
        if (fallThrough) return next();
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      // The preview server's headers (cross-origin isolation, CSP) go on what it serves itself only.
      for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
      res.setHeader('Content-Type', CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream');
      res.setHeader('Content-Length', stat.size);
      if (req.method === 'HEAD') return void res.end();
      fs.createReadStream(file).pipe(res);
    };
  return {
    name: 'whycam-models',
    configureServer(server) {
      server.middlewares.use(serve(false));
    },
    configurePreviewServer(server) {
      server.middlewares.use(serve(true, server.config.preview.headers));
    },
    async generateBundle() {
      for (const entry of MODELS) {
        const folder = path.join(modelsDir, entry.id);
        // An on-request model ships only where it was installed; a default one is expected.
        if (entry.fetch !== 'default' && !fs.existsSync(folder)) continue;
        // The files verification reads are the ones shipped: all of a complete, genuine model or none.
        const files = new Map<string, Uint8Array>();
        try {
          await readVerifiedEntry(
            entry,
            async (name) => {
              if (!isSafeModelPath(name)) return null;
              const data = await fs.promises.readFile(path.join(folder, name)).catch(() => null);
              if (data) files.set(name, data);
              return data;
            },
            { location: folder, fix: '' },
          );
        } catch (e) {
          this.warn(
            `model ${entry.id} is not shipped: ${(e as Error).message.trim()} The app will report it missing. Run: npm run models -- --model ${entry.id}, then build again.`,
          );
          continue;
        }
        for (const [name, source] of files) {
          this.emitFile({ type: 'asset', fileName: `models/${entry.id}/${name}`, source });
        }
      }
    },
  };
}
