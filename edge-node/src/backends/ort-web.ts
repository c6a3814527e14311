import type { ExecutionProvider } from '@hexedge/protocol';
import * as ort from 'onnxruntime-web';
import type { ModelManifest } from '../models/manifest.ts';
import type { InferenceBackend, LoadedModel } from './backend.ts';
import { OrtModel, type OrtTensorClass } from './ort-model.ts';

export interface OrtWebBackendOptions {
  /** WASM worker threads. Set explicitly: ORT's default (half the cores) is wrong for a shared box. */
  numThreads: number;
}

let configuredThreads: number | undefined;

/**
 * onnxruntime-web on WebAssembly (SIMD, threads): the portable backend that runs wherever JavaScript
 * does, including machines where the native addon cannot load. ORT's wasm settings are global and
 * fixed by the first session, so the first backend created decides the thread count.
 */
export class OrtWebBackend implements InferenceBackend {
  readonly name = 'onnxruntime-web';
  readonly executionProviders: readonly ExecutionProvider[] = ['wasm'];

  constructor(options: OrtWebBackendOptions) {
    if (configuredThreads === undefined) {
      ort.env.wasm.numThreads = options.numThreads;
      ort.env.wasm.simd = true;
      configuredThreads = options.numThreads;
    }
  }

  async load(options: { manifest: ModelManifest; bytes: Uint8Array }): Promise<LoadedModel> {
    const session = await ort.InferenceSession.create(options.bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return new OrtModel({ manifest: options.manifest, session, Tensor: ort.Tensor as unknown as OrtTensorClass, executionProvider: 'wasm' });
  }
}
