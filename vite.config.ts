import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { DEFAULT_MODEL_ID, MODELS } from './models/registry.js';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './scripts/csp.js';
import { modelsPlugin } from './scripts/vite-models.js';
import { wasmThreadsPlugin } from './scripts/vite-wasm-threads.js';

const modelsDir = path.resolve(process.env['WHYCAM_MODELS_DIR'] ?? 'models');
const port = Number(process.env['PORT'] ?? 4173);
const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };

/**
 * A fingerprint of the model files this build serves (every registered model: the on-request ones
 * are cached by the service worker too): names the service worker's model cache.
 */
function modelsVersion(): string {
  const hash = crypto.createHash('sha256');
  for (const entry of MODELS) {
    // A caffe model has no model.json: its sha256 list is all of its files.
    const file = path.join(modelsDir, entry.id, 'model.json');
    hash
      .update(entry.id)
      .update(fs.existsSync(file) ? fs.readFileSync(file) : 'missing')
      .update(JSON.stringify(entry.sha256));
  }
  return hash.digest('hex').slice(0, 12);
}
process.env['VITE_MODELS_VERSION'] = modelsVersion();
process.env['VITE_APP_VERSION'] = version;
process.env['VITE_BUILD_ID'] ??= new Date().toISOString().slice(0, 16);

/** The CSP as a meta tag, in builds only (the dev server injects inline styles for hot reload). */
function cspMeta(): Plugin {
  return {
    name: 'whycam-csp',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY },
        injectTo: 'head-prepend',
      },
    ],
  };
}

const icon = (size: number, purpose = 'any') => ({
  src: `icons/${purpose === 'maskable' ? 'maskable' : 'icon'}-${size}.png`,
  sizes: `${size}x${size}`,
  type: 'image/png',
  purpose,
});

export default defineConfig({
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096 },
  // The explain worker's bundle is built apart from the page's: it needs the pthread scripts too.
  worker: { format: 'es', plugins: () => [wasmThreadsPlugin()] },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port, strictPort: true, headers: SECURITY_HEADERS },
  plugins: [
    modelsPlugin(modelsDir),
    wasmThreadsPlugin(),
    cspMeta(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'workers',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      manifest: {
        id: './',
        name: 'WhyCam — why did the network decide that?',
        short_name: 'WhyCam',
        description:
          'Point a camera at an object: an ImageNet network classifies every frame and a live heatmap (Grad-CAM, CAM, LayerCAM) shows which part of the picture drove the decision. Runs offline, on the device.',
        start_url: './',
        scope: './',
        display: 'standalone',
        orientation: 'any',
        theme_color: '#0b0e14',
        background_color: '#0b0e14',
        categories: ['education', 'science'],
        icons: [
          ...[48, 72, 96, 128, 144, 152, 192, 384, 512].map((s) => icon(s)),
          icon(192, 'maskable'),
          icon(512, 'maskable'),
        ],
        screenshots: [
          {
            src: 'screenshots/wide.png',
            sizes: '1280x720',
            type: 'image/png',
            form_factor: 'wide',
            label: 'Live heatmap over the camera, with predictions and controls',
          },
          {
            src: 'screenshots/narrow.png',
            sizes: '540x960',
            type: 'image/png',
            form_factor: 'narrow',
            label: 'WhyCam on a phone',
          },
        ],
      },
      injectManifest: {
        // The app shell, scripts, WASM binaries and the default model; other models are cached on first use.
        globPatterns: ['**/*.{js,css,html,wasm,png,svg,ico,webmanifest}', `models/${DEFAULT_MODEL_ID}/*`],
        globIgnores: ['screenshots/**'],
        // Workbox skips anything over 2 MiB by default: the worker bundle and the largest shard are bigger.
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
      },
    }),
  ],
});
