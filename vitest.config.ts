import { defineConfig } from 'vitest/config';

// One vitest project per workspace package; each package's tests sit beside its code (src/**/*.test.ts)
// or, for cross-package and real-service tests, in its test/ folder.
export default defineConfig({
  test: {
    projects: [
      'protocol',
      'placement',
      'coverage-oracle',
      'edge-node',
      'firmware-bridge',
      'gateway',
      'dashboards',
      'simulator',
      'client',
      'cli',
      'bench',
    ],
    passWithNoTests: true,
    // Clears the record of skipped real parts, and at the end says what was skipped and why (or nothing).
    globalSetup: ['./test-kit/src/skip-summary.ts'],
  },
});
