import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@hexedge/gateway',
    // A guard against hangs, not a speed check (speed is measured by `npm run bench`): vitest's 5 s
    // default failed tests that take 2–4 s on a quiet 2-core machine whenever it was loaded.
    testTimeout: 20_000,
  },
});
