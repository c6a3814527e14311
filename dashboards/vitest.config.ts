import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@hexedge/dashboards',
    // The browser tests start `hexedge dev` (nodes as processes) and Chromium on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 150_000,
  },
});
