import type { WorkboxPlugin } from 'workbox-core';
import { findModel, type ModelEntry } from '../models/registry.js';
import { isSafeModelPath, sha256Hex } from '../src/explain/models/model-files.js';

/**
 * The service worker keeps models other than the precached default in caches named
 * `whycam-models-<fingerprint of this build's models>`; the explain worker forgets a model's files
 * there when they fail their checks.
 */
export const MODEL_CACHE_PREFIX = 'whycam-models-';

/** The registered model and the file within its folder that `…/models/<id>/<path>` names, if any. */
export function modelFileOf(url: URL): { entry: ModelEntry; path: string } | null {
  const m = /\/models\/([^/]+)\/(.+)$/.exec(url.pathname);
  const entry = m ? findModel(m[1]!) : undefined;
  if (!m || !entry || !isSafeModelPath(m[2]!)) return null;
  return { entry, path: m[2]! };
}

/**
 * Lets only a registered model's genuine files into the cache: a complete 200 response that is
 * not an HTML page (a host's fallback for a missing file), and, where the registry knows the
 * file's sha256, those exact bytes. An altered or truncated download still reaches the explain
 * worker, which names the file; it is just never kept, so it cannot become the model used offline.
 * (A plugin with this hook replaces Workbox's own status-200 check, so it makes that check too.)
 */
export const genuineModelFiles: WorkboxPlugin = {
  cacheWillUpdate: async ({ request, response }) => {
    if (response.status !== 200 || (response.headers.get('content-type') ?? '').includes('text/html')) return null;
    const file = modelFileOf(new URL(request.url));
    if (!file) return null;
    const expected = file.entry.sha256[file.path];
    if (!expected) return response;
    // Read a clone: the response itself is what goes into the cache.
    const actual = await sha256Hex(new Uint8Array(await response.clone().arrayBuffer()));
    return actual === expected ? response : null;
  },
};
