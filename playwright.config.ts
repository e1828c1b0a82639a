import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';

// Service workers' own requests (precaching) show up in the privacy test's request log too.
process.env['PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS'] = '1';

/**
 * The app as `npm start` serves it: a production build on a preview server. WHYCAM_E2E_PORT moves
 * it (and the development server, 1000 above) so that two checkouts can run their tests at once.
 */
export const APP_PORT = Number(process.env['WHYCAM_E2E_PORT'] ?? 4174);
/** The development server, for the component fixtures (pages that exist only in tests). */
export const DEV_PORT = APP_PORT + 1000;

const ROOT = path.dirname(fileURLToPath(import.meta.url));

/**
 * The models the app under test serves. With a mirror (WHYCAM_MODEL_MIRROR, else ../shared/models)
 * the tests get a models folder of their own, installed from it before the build: the two default
 * models, GoogLeNet and the ONNX MobileNet V2, so that zoo models are tested live, and never SqueezeNet 1.1, so that a
 * model the server lacks is tested too (tests/e2e/zoo.spec.ts) whatever models/ holds. Without a
 * mirror the build serves models/ as `npm start` does (and the zoo tests skip what they lack).
 */
const MIRROR = process.env['WHYCAM_MODEL_MIRROR'] ?? path.join(ROOT, '..', 'shared', 'models');
const HAS_MIRROR = /^https?:\/\//.test(MIRROR) || fs.existsSync(MIRROR);
export const E2E_MODELS_DIR = path.join(ROOT, 'test-results', 'e2e-models');
const E2E_MODELS = ['mobilenet_v1_0.75_224', 'mobilenet_v1_0.25_224', 'googlenet', 'mobilenetv2'];
const installModels = HAS_MIRROR
  ? `node bin/whycam.js models ${E2E_MODELS.map((id) => `--model ${id}`).join(' ')} --from ${JSON.stringify(MIRROR)} && `
  : '';
// The CLI and vite read the folder from here (the dev server below serves no models the tests use).
const modelsEnv: Record<string, string> = HAS_MIRROR ? { WHYCAM_MODELS_DIR: E2E_MODELS_DIR } : {};

export default defineConfig({
  testDir: 'tests/e2e',
  // Not test-results/ itself: Playwright empties its output folder, and the vitest report lives there.
  outputDir: 'test-results/e2e',
  // One at a time: the machines have two cores, and the live tests measure speed.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: 'list',
  use: { baseURL: `http://127.0.0.1:${APP_PORT}`, viewport: { width: 1280, height: 800 } },
  // WebGPU on SwiftShader can leave the browser's GPU process slow for what follows: those tests get a browser of their own.
  projects: [
    { name: 'app', testIgnore: /backends\.spec\.ts/ },
    { name: 'gpu-backends', testMatch: /backends\.spec\.ts/ },
  ],
  webServer: [
    {
      command: `${installModels}npx vite build --logLevel warn && npx vite preview --port ${APP_PORT} --strictPort`,
      url: `http://127.0.0.1:${APP_PORT}/`,
      env: modelsEnv,
      // Copying and checking the models (40 MB) comes first on a cold run.
      timeout: 180_000,
      reuseExistingServer: false,
    },
    {
      command: `npx vite --port ${DEV_PORT} --strictPort`,
      url: `http://127.0.0.1:${DEV_PORT}/tests/e2e/fixtures/components.html`,
      timeout: 60_000,
      reuseExistingServer: false,
    },
  ],
});
