import { defineConfig } from 'vitest/config';

// The fault suite (`npm run test:faults`): real processes on 127.0.0.1, one scenario file at a time
// so timings (heartbeat intervals, recovery) are not skewed by another scenario's processes.
export default defineConfig({
  // The repository's cache, not a node_modules/ inside this folder (the root below is this folder).
  cacheDir: '../../../node_modules/.vite/faults',
  test: {
    name: 'faults',
    root: import.meta.dirname,
    include: ['**/*.fault.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['./global-setup.ts', '../../../test-kit/src/skip-report.ts'],
  },
});
