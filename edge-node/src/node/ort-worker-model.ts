import { HexEdgeError, type ExecutionProvider, type Tensor } from '@hexedge/protocol';
import type { LoadedModel, RunOptions } from '../backends/backend.ts';
import { fromOrtTensor, toOrtData, toOrtType } from '../backends/ort-tensors.ts';
import type { ModelManifest } from '../models/manifest.ts';
import type { OrtThreads } from './ort-threads.ts';
import { transferablesOf, type OrtWireTensor } from './ort-worker.ts';

export interface OrtWorkerModelOptions {
  manifest: ModelManifest;
  bytes: Uint8Array;
  /** The provider the session is asked for first, as announced in heartbeats. */
  executionProvider: ExecutionProvider;
  /** ORT's provider names in order, CPU last (e.g. `['webgpu', 'cpu']`). */
  ortProviders: string[];
  intraOpThreads: number;
  /** The backend's inference threads, shared by its models. */
  threads: OrtThreads;
}

/** A view that spans its whole buffer can be moved; any other is copied to exactly its bytes first. */
const ownsBuffer = (v: ArrayBufferView) =>
  v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;

/**
 * A model whose sessions live on the backend's inference threads (ort-threads.ts, ort-worker.ts):
 * `run` converts OIP tensors to ORT's types here, moves their buffers to an idle thread and gets the
 * outputs' buffers moved back, so the event loop spends microseconds per run, not the run itself. Up
 * to one run per thread proceeds at once (threads shared with the backend's other models).
 */
export class OrtWorkerModel implements LoadedModel {
  readonly manifest: ModelManifest;
  readonly executionProvider: ExecutionProvider;
  readonly maxConcurrentRuns: number;
  readonly #threads: OrtThreads;
  readonly #key: string;
  readonly #label: string;
  readonly #outputNames: string[];
  #released = false;

  private constructor(
    options: OrtWorkerModelOptions,
    loaded: { key: string; outputNames: string[]; label: string },
  ) {
    this.manifest = options.manifest;
    this.executionProvider = options.executionProvider;
    this.maxConcurrentRuns = options.threads.size;
    this.#threads = options.threads;
    this.#key = loaded.key;
    this.#label = loaded.label;
    this.#outputNames = loaded.outputNames;
  }

  static async start(options: OrtWorkerModelOptions): Promise<OrtWorkerModel> {
    const label = `${options.manifest.name}@${options.manifest.version}`;
    const loaded = await options.threads.load({
      label,
      bytes: options.bytes,
      executionProviders: options.ortProviders,
      intraOpThreads: options.intraOpThreads,
    });
    return new OrtWorkerModel(options, { ...loaded, label });
  }

  /** The backend's inference threads alive now, and how many were replaced after dying (for tests and metrics). */
  get threads(): { alive: number; respawns: number } {
    return this.#threads.threads;
  }

  async run(
    inputs: readonly Tensor[],
    outputNames?: readonly string[],
    options?: RunOptions,
  ): Promise<Tensor[]> {
    if (this.#released) throw new HexEdgeError('MODEL_NOT_READY', `${this.#label} was released`);
    const feeds: OrtWireTensor[] = inputs.map((t) => {
      const data = toOrtData(t);
      // A typed array that is the caller's own (not converted here) is moved only when the caller gave it away.
      const given = data === t.data && !options?.transferInputs;
      const wire = ArrayBuffer.isView(data) && (given || !ownsBuffer(data)) ? data.slice() : data;
      return {
        name: t.name,
        type: toOrtType(t.datatype),
        dims: t.shape,
        data: wire as ArrayBufferView | string[],
      };
    });
    const fetches = outputNames?.length ? [...outputNames] : this.#outputNames;
    const outputs = await this.#threads.run(
      this.#key,
      { feeds, fetches },
      { label: this.#label, transfer: transferablesOf(feeds) },
    );
    return outputs.map((o) =>
      fromOrtTensor(o.name, o as { type: string; dims: number[]; data: ArrayLike<unknown> }),
    );
  }

  release(): Promise<void> {
    this.#released = true;
    return this.#threads.unload(this.#key);
  }
}
