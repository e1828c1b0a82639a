import path from 'node:path';
import { defineConfig } from 'vite';
import { modelsPlugin } from './scripts/vite-models.js';

const modelsDir = path.resolve(process.env['WHYCAM_MODELS_DIR'] ?? 'models');
const port = Number(process.env['PORT'] ?? 4173);

export default defineConfig({
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port, strictPort: true },
  plugins: [modelsPlugin(modelsDir)],
});
