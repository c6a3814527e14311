import type { ExecutionProvider, Tensor } from '@hexedge/protocol';
import type { ModelManifest } from '../models/manifest.ts';

/**
 * An inference backend turns verified model bytes into a runnable session on some hardware. Each
 * implementation lives in one file (onnxruntime-node: native CPU and CUDA/TensorRT where present;
 * onnxruntime-web: WASM), so the server never knows which runtime answers.
 */
export interface InferenceBackend {
  readonly name: string;
  /** Execution providers this backend can use on this machine, best first. */
  readonly executionProviders: readonly ExecutionProvider[];
  load(options: { manifest: ModelManifest; bytes: Uint8Array }): Promise<LoadedModel>;
}

export interface RunOptions {
  /**
   * The caller gives the inputs' buffers away (the scheduler's own batch tensors): a backend on
   * another thread may move them there instead of copying, which leaves them detached here.
   */
  transferInputs?: boolean;
}

export interface LoadedModel {
  readonly manifest: ModelManifest;
  readonly executionProvider: ExecutionProvider;
  /**
   * Runs that may be in flight at once (a worker pool's size). Absent: one at a time, as a session
   * on the event loop runs.
   */
  readonly maxConcurrentRuns?: number;
  /** Runs one request; inputs are validated tensors keyed by name, outputs come back by name. */
  run(inputs: readonly Tensor[], outputNames?: readonly string[], options?: RunOptions): Promise<Tensor[]>;
  release(): Promise<void>;
}
