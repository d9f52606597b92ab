import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      // The package imports its own native addon by name; point vitest at the
      // generated loader in the repo so tests run against the built addon.
      '@clawsec/traffic-guardian/addon': fileURLToPath(new URL('./index.js', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // A native addon crash must take down one worker, not the run.
    pool: 'forks',
  },
});
