import { defineConfig } from 'vitest/config';

/**
 * The browser flows in a real WebKit (Debian's WebKitGTK MiniBrowser over WebDriver, under Xvfb),
 * apart from the unit tests: `npx vitest run --config vitest.webkit.config.ts`.
 */
export default defineConfig({
  test: {
    include: ['tests/webkit/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['tests/webkit/global-setup.ts'],
    // One browser at a time: two cores, and every file starts its own WebKit.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 240_000,
    hookTimeout: 180_000,
  },
});
