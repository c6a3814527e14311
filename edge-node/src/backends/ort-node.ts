import type { ExecutionProvider, Tensor } from '@hexedge/protocol';
import ort from 'onnxruntime-node';
import type { ModelManifest } from '../models/manifest.ts';
import type { InferenceBackend, LoadedModel } from './backend.ts';
import { fromOrtTensor, toOrtData, toOrtType } from './ort-tensors.ts';

export interface OrtNodeBackendOptions {
  /** Intra-op threads per session; 0 lets ONNX Runtime choose. */
  intraOpThreads?: number;
}

/**
 * onnxruntime-node: the native CPU execution provider everywhere. CUDA/TensorRT arrive with the
 * edge-node issue (their binaries are not in the npm package; the install script that fetches them is
 * denied in package.json `allowScripts`).
 */
export class OrtNodeBackend implements InferenceBackend {
  readonly name = 'onnxruntime-node';
  readonly executionProviders: readonly ExecutionProvider[] = ['cpu'];
  readonly #intraOpThreads: number;

  constructor(options: OrtNodeBackendOptions = {}) {
    this.#intraOpThreads = options.intraOpThreads ?? 1;
  }

  async load(options: { manifest: ModelManifest; bytes: Uint8Array }): Promise<LoadedModel> {
    const session = await ort.InferenceSession.create(options.bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.#intraOpThreads,
    });
    return new OrtNodeModel(options.manifest, session);
  }
}

class OrtNodeModel implements LoadedModel {
  readonly executionProvider: ExecutionProvider = 'cpu';
  readonly manifest: ModelManifest;
  readonly #session: ort.InferenceSession;

  constructor(manifest: ModelManifest, session: ort.InferenceSession) {
    this.manifest = manifest;
    this.#session = session;
  }

  async run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of inputs) {
      feeds[t.name] = new ort.Tensor(toOrtType(t.datatype), toOrtData(t), t.shape);
    }
    const names = outputNames?.length ? outputNames : this.#session.outputNames;
    const results = await this.#session.run(feeds, [...names]);
    return names.map((name) => fromOrtTensor(name, results[name]!));
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}
