import type { ExecutionProvider, Tensor } from '@hexedge/protocol';
import type { ModelManifest } from '../models/manifest.ts';
import type { LoadedModel } from './backend.ts';
import { fromOrtTensor, toOrtData, toOrtType, type OrtTensorLike } from './ort-tensors.ts';

/** What both onnxruntime-node's and onnxruntime-web's sessions offer (onnxruntime-common's interface). */
export interface OrtSessionLike {
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>, fetches: string[]): Promise<Record<string, unknown>>;
  release(): Promise<void>;
}

/** The runtime's own Tensor class: each runtime package checks feeds against its own. */
export type OrtTensorClass = new (type: ReturnType<typeof toOrtType>, data: never, dims: readonly number[]) => unknown;

/** A model on an ONNX Runtime session, whichever runtime made it: OIP tensors in, OIP tensors out. */
export class OrtModel implements LoadedModel {
  readonly manifest: ModelManifest;
  readonly executionProvider: ExecutionProvider;
  readonly #session: OrtSessionLike;
  readonly #Tensor: OrtTensorClass;

  constructor(options: { manifest: ModelManifest; session: OrtSessionLike; Tensor: OrtTensorClass; executionProvider: ExecutionProvider }) {
    this.manifest = options.manifest;
    this.#session = options.session;
    this.#Tensor = options.Tensor;
    this.executionProvider = options.executionProvider;
  }

  async run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]> {
    const feeds: Record<string, unknown> = {};
    for (const t of inputs) feeds[t.name] = new this.#Tensor(toOrtType(t.datatype), toOrtData(t) as never, t.shape);
    const names = outputNames?.length ? outputNames : this.#session.outputNames;
    const results = await this.#session.run(feeds, [...names]);
    return names.map((name) => fromOrtTensor(name, results[name] as OrtTensorLike));
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}
