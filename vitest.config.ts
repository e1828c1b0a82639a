import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    // Each file gets its own process: tfjs backends and their registries are per process.
    pool: 'forks',
    setupFiles: ['tests/helpers/setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
