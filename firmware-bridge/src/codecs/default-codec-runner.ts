/**
 * The codec runner for runtimes without worker threads (`#codec-runner`'s default condition in
 * package.json "imports"); Node resolves `#codec-runner` to src/node/default-codec-runner.ts instead.
 */
export { inProcessCodecRunner as defaultCodecRunner } from './in-process-runner.ts';
