import type { ExecutionProvider, Tensor } from '@hexedge/protocol';
import type { LoadedModel, RunOptions } from '../backends/backend.ts';
import { fromOrtTensor, toOrtData, toOrtType } from '../backends/ort-tensors.ts';
import type { ModelManifest } from '../models/manifest.ts';
import {
  transferablesOf,
  type OrtJob,
  type OrtWireTensor,
  type OrtWorkerData,
  type OrtWorkerInfo,
} from './ort-worker.ts';
import { WorkerPool } from './worker-pool.ts';

const ORT_WORKER = new URL('./ort-worker.ts', import.meta.url);

export interface OrtWorkerModelOptions {
  manifest: ModelManifest;
  bytes: Uint8Array;
  /** The provider the session is asked for first, as announced in heartbeats. */
  executionProvider: ExecutionProvider;
  /** ORT's provider names in order, CPU last (e.g. `['webgpu', 'cpu']`). */
  ortProviders: string[];
  intraOpThreads: number;
  /** Worker threads for this model, each with its own session. */
  workers: number;
  log?: (line: string) => void;
}

/** A view that spans its whole buffer can be moved; any other is copied to exactly its bytes first. */
const ownsBuffer = (v: ArrayBufferView) =>
  v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;

/**
 * A model whose sessions live on worker threads (ort-worker.ts): `run` converts OIP tensors to ORT's
 * types here, moves their buffers to an idle worker and gets the outputs' buffers moved back, so the
 * event loop spends microseconds per run, not the run itself. Up to `workers` runs proceed at once.
 */
export class OrtWorkerModel implements LoadedModel {
  readonly manifest: ModelManifest;
  readonly executionProvider: ExecutionProvider;
  readonly maxConcurrentRuns: number;
  readonly #pool: WorkerPool<OrtWorkerInfo>;

  private constructor(options: OrtWorkerModelOptions, pool: WorkerPool<OrtWorkerInfo>) {
    this.manifest = options.manifest;
    this.executionProvider = options.executionProvider;
    this.maxConcurrentRuns = pool.size;
    this.#pool = pool;
  }

  static async start(options: OrtWorkerModelOptions): Promise<OrtWorkerModel> {
    const workerData: OrtWorkerData = {
      bytes: options.bytes,
      executionProviders: options.ortProviders,
      intraOpThreads: options.intraOpThreads,
    };
    const pool = await WorkerPool.start<OrtWorkerInfo>({
      label: `${options.manifest.name}@${options.manifest.version}`,
      script: ORT_WORKER,
      size: options.workers,
      workerData,
      log: options.log,
    });
    return new OrtWorkerModel(options, pool);
  }

  /** Worker threads alive now, and how many were replaced after dying (for tests and metrics). */
  get threads(): { alive: number; respawns: number } {
    return { alive: this.#pool.threads, respawns: this.#pool.respawns };
  }

  async run(
    inputs: readonly Tensor[],
    outputNames?: readonly string[],
    options?: RunOptions,
  ): Promise<Tensor[]> {
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
    const fetches = outputNames?.length ? [...outputNames] : this.#pool.info.outputNames;
    const job: OrtJob = { feeds, fetches };
    const outputs = await this.#pool.run<OrtWireTensor[]>(job, transferablesOf(feeds));
    return outputs.map((o) =>
      fromOrtTensor(o.name, o as { type: string; dims: number[]; data: ArrayLike<unknown> }),
    );
  }

  release(): Promise<void> {
    return this.#pool.close();
  }
}
