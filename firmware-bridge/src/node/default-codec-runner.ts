/** On Node (`#codec-runner`'s "node" condition in package.json "imports"): every JS codec in its own worker thread. */
export { workerCodecRunner as defaultCodecRunner } from './worker-codec-runner.ts';
