import { defineConfig } from '@playwright/test';

// Service workers' own requests (precaching) show up in the privacy test's request log too.
process.env['PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS'] = '1';

/** The app as `npm start` serves it: a production build on a preview server. */
export const APP_PORT = 4174;
/** The development server, for the component fixtures (pages that exist only in tests). */
export const DEV_PORT = 5174;

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
      command: `npx vite build --logLevel warn && npx vite preview --port ${APP_PORT} --strictPort`,
      url: `http://127.0.0.1:${APP_PORT}/`,
      timeout: 120_000,
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
