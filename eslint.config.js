// Lint enforces the two architectural boundaries from ARCHITECTURE.md:
// 1. runtime-neutral packages keep Node out of src/ (no `node:` imports, no `process`) except in
//    their adapters/ or node/ folders and in tests;
// 2. no package imports another package's src/ (import its entry instead).
import tseslint from 'typescript-eslint';

const NEUTRAL = ['protocol', 'placement', 'coverage-oracle', 'firmware-bridge', 'gateway', 'edge-node', 'client'];
const NO_DEEP_IMPORT = {
  group: ['@hexedge/*/src', '@hexedge/*/src/*', '../../*/src/*', '../../../*/src/*'],
  message: "Import another package's entry (@hexedge/x), not its src/.",
};
const NODE_BUILTINS = {
  group: ['node:*'],
  message: 'Runtime-neutral code uses web standards; move Node-only code to src/adapters/ or src/node/.',
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.tsbuild/**',
      '**/dist/**',
      'bench/results/**',
      '.hexedge/**',
      'test-artifacts/**',
      '.wrangler/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [NO_DEEP_IMPORT] }],
    },
  },
  {
    files: NEUTRAL.map((p) => `${p}/src/**/*.ts`),
    ignores: NEUTRAL.flatMap((p) => [`${p}/src/adapters/**`, `${p}/src/node/**`, `${p}/src/**/*.test.ts`]),
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_DEEP_IMPORT, NODE_BUILTINS] }],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process in runtime-neutral code: pass config in from the adapter.' },
        { name: 'Buffer', message: 'Use Uint8Array in runtime-neutral code.' },
      ],
    },
  },
);
