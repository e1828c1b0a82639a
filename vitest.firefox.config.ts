import { defineConfig } from 'vitest/config';

/**
 * The browser flows in a real Firefox (Debian's firefox-esr over WebDriver BiDi), apart from the
 * unit tests: `npx vitest run --config vitest.firefox.config.ts`.
 */
export default defineConfig({
  test: {
    include: ['tests/firefox/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['tests/firefox/global-setup.ts'],
    // One browser at a time: two cores, and every file starts its own Firefox.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 240_000,
    hookTimeout: 180_000,
  },
});
