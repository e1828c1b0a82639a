/// <reference lib="webworker" />
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

/**
 * Models other than the default one are cached when first used, in a cache named after this
 * build's model files: a new app or model version gets a new cache and the old one is deleted,
 * so versions never mix.
 */
const MODEL_CACHE = `whycam-models-${import.meta.env.VITE_MODELS_VERSION ?? 'dev'}`;

// The app shell, scripts, WASM binaries and the default model, all fetched and verified at install.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Deep links open the app (it reads its state from the URL).
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

// Only this origin's model files; nothing from other origins is ever cached (or fetched).
registerRoute(
  ({ url, sameOrigin }) => sameOrigin && url.pathname.includes('/models/'),
  new CacheFirst({ cacheName: MODEL_CACHE }),
);

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('whycam-models-') && name !== MODEL_CACHE) await caches.delete(name);
    }
  })());
});

// The page asks for the new version once the user agrees ("A new version is ready — reload").
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

clientsClaim();
