import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cli',
    // The end-to-end test starts real processes; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
