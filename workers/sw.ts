/// <reference lib="webworker" />
import { clientsClaim, type WorkboxPlugin } from 'workbox-core';
import { addPlugins, cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';
import { ISOLATION_HEADERS } from '../scripts/csp.js';
import { genuineModelFiles, MODEL_CACHE_PREFIX } from './model-cache.js';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

/**
 * Models other than the default one (the zoo models too, sub-folders and all) are cached when
 * first used, in a cache named after this build's model files: a new app or model version gets a
 * new cache and the old one is deleted, so versions never mix.
 */
const MODEL_CACHE = `${MODEL_CACHE_PREFIX}${import.meta.env.VITE_MODELS_VERSION ?? 'dev'}`;

/**
 * Adds the cross-origin isolation headers to what this worker serves, so that the page, its
 * workers and their scripts are isolated (shared memory, threaded WASM) after the first visit
 * even on a static host that sends no such headers. Only this origin's own responses get them.
 */
const crossOriginIsolation: WorkboxPlugin = {
  handlerWillRespond: async ({ response }) => {
    if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
    if (Object.keys(ISOLATION_HEADERS).every((name) => response.headers.has(name))) return response;
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) if (!headers.has(name)) headers.set(name, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  },
};
addPlugins([crossOriginIsolation]);

// The app shell, scripts, WASM binaries and the default model, all fetched and verified at install.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Deep links open the app (it reads its state from the URL).
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

// Only this origin's model files; nothing from other origins is ever cached (or fetched). Once
// cached, a file is served from the cache, so a later bad download cannot replace a good copy.
registerRoute(
  ({ url, sameOrigin }) => sameOrigin && url.pathname.includes('/models/'),
  new CacheFirst({ cacheName: MODEL_CACHE, plugins: [genuineModelFiles, crossOriginIsolation] }),
);

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(MODEL_CACHE_PREFIX) && name !== MODEL_CACHE) await caches.delete(name);
      }
    })(),
  );
});

// The page asks for the new version once the user agrees ("A new version is ready — reload").
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

clientsClaim();
