import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Pure unit tests: no model from disk, no photo decoded, no browser, no child process. They get a
 * short timeout, so that one that hangs fails in seconds. A new test file runs with the model tests
 * (long timeout) until it is listed here.
 */
const PURE = [
  'actions',
  'app-stats',
  'architecture',
  'explain-service',
  'frame-pump',
  'grab-choice',
  'i18n',
  'latest-frame',
  'metrics',
  'postprocess',
  'settings',
  'shortcuts',
  'trust-notices',
  'worker-client',
].map((name) => `tests/unit/${name}.test.ts`);

export default defineConfig({
  test: {
    environment: 'node',
    // Each file gets its own process: tfjs backends and their registries are per process.
    pool: 'forks',
    setupFiles: ['tests/helpers/setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'pure', include: PURE, testTimeout: 10_000, hookTimeout: 10_000 },
      },
      {
        extends: true,
        test: {
          name: 'models',
          include: ['tests/unit/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...PURE],
          // Real networks on the CPU backends of a two-core machine: loads, and passes of seconds.
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
