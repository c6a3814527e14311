import { defineConfig } from 'vitest/config';

// The multi-host suite (`npm run test:multihost`): one emulated network of namespaces per file, run
// one file at a time (they would compete for the 2 cores and skew each other's round trips).
export default defineConfig({
  // The repository's cache, not a node_modules/ inside this folder (the root below is this folder).
  cacheDir: '../../../node_modules/.vite/multihost',
  test: {
    name: 'multihost',
    root: import.meta.dirname,
    include: ['**/*.multihost.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['./global-setup.ts', '../../../test-kit/src/skip-report.ts'],
  },
});
