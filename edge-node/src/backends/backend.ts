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

export interface LoadedModel {
  readonly manifest: ModelManifest;
  readonly executionProvider: ExecutionProvider;
  /** Runs one request; inputs are validated tensors keyed by name, outputs come back by name. */
  run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]>;
  release(): Promise<void>;
}
