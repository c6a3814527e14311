import type { ExecutionProvider } from '@hexedge/protocol';
import os from 'node:os';
import ort from 'onnxruntime-node';
import type { ModelManifest } from '../models/manifest.ts';
import type { InferenceBackend, LoadedModel } from '../backends/backend.ts';
import { OrtModel, type OrtTensorClass } from '../backends/ort-model.ts';
import { ORT_EP_NAME, probeAccelerators, type ProbeResult } from './accelerator-probe.ts';
import { OrtThreads } from './ort-threads.ts';
import { OrtWorkerModel } from './ort-worker-model.ts';

export interface OrtNodeBackendOptions {
  /** Intra-op threads per model session; 0 lets ONNX Runtime choose (one per core). */
  intraOpThreads?: number;
  /** Accelerated execution providers to try, best first; each is probed once at start-up. */
  accelerators?: readonly ExecutionProvider[];
  /**
   * Worker threads shared by every model (each holds a session of each), so model runs leave the event
   * loop free. 0 runs sessions on the event loop (as onnxruntime-node does by itself). Default:
   * `defaultInferenceWorkers`.
   */
  workers?: number;
  log?: (line: string) => void;
}

export const DEFAULT_ACCELERATORS: readonly ExecutionProvider[] = [
  'tensorrt',
  'cuda',
  'webgpu',
  'qnn',
  'coreml',
];

/** Most inference threads that `auto` picks: beyond this, batches shrink more than runs speed up. */
const MAX_AUTO_WORKERS = 4;

/**
 * Inference threads (shared by the models) for `auto`: the cores left after the event loop's, divided among each
 * session's intra-op threads, at least 1 and at most MAX_AUTO_WORKERS. On 2 cores with 1 intra-op
 * thread: 1 (the event loop on one core, the model on the other).
 */
export function defaultInferenceWorkers(options: { cores: number; intraOpThreads: number }): number {
  const perSession = options.intraOpThreads > 0 ? options.intraOpThreads : options.cores;
  return Math.max(1, Math.min(MAX_AUTO_WORKERS, Math.floor((options.cores - 1) / perSession)));
}

/**
 * onnxruntime-node: the native CPU execution provider everywhere, plus whichever accelerated providers
 * (CUDA, TensorRT, WebGPU over Vulkan/D3D12/Metal, an NPU's QNN) actually open a session on this
 * machine. The npm package ships CPU and WebGPU (Dawn) in its binaries; CUDA's provider libraries come
 * from ONNX Runtime's GPU install, whose downloading install script the root package.json denies.
 * Sessions run on worker threads (ort-worker-model.ts) unless `workers` is 0.
 */
export class OrtNodeBackend implements InferenceBackend {
  readonly name = 'onnxruntime-node';
  readonly executionProviders: readonly ExecutionProvider[];
  /** Accelerators tried and not usable here, with the reason (for the start-up log line). */
  readonly unavailableAccelerators: ProbeResult['unavailable'];
  readonly #intraOpThreads: number;
  readonly #workers: number;
  readonly #log: ((line: string) => void) | undefined;
  /** The inference threads, shared by every model this backend loads (none while none is loaded). */
  #threads: OrtThreads | undefined;

  private constructor(options: OrtNodeBackendOptions, probe: ProbeResult) {
    this.executionProviders = [...probe.found, 'cpu'];
    this.unavailableAccelerators = probe.unavailable;
    this.#intraOpThreads = options.intraOpThreads ?? 1;
    this.#workers =
      options.workers ??
      defaultInferenceWorkers({ cores: os.availableParallelism(), intraOpThreads: this.#intraOpThreads });
    this.#log = options.log;
  }

  /** Probes each accelerator by opening a tiny session on it (in a child process); any failure means "not here". */
  static async create(options: OrtNodeBackendOptions = {}): Promise<OrtNodeBackend> {
    if (options.workers !== undefined && (!Number.isInteger(options.workers) || options.workers < 0)) {
      throw new Error(`inference workers ${options.workers} is not a non-negative integer`);
    }
    const probe = options.accelerators?.length
      ? await probeAccelerators(options.accelerators)
      : { found: [], unavailable: [] };
    return new OrtNodeBackend(options, probe);
  }

  /** Inference threads, shared by the models (0: sessions on the event loop). */
  get inferenceThreads(): number {
    return this.#workers;
  }

  async load(options: { manifest: ModelManifest; bytes: Uint8Array }): Promise<LoadedModel> {
    const accelerated = options.manifest.prefersAccelerator
      ? this.executionProviders.filter((ep) => ep !== 'cpu')
      : [];
    const chosen: ExecutionProvider = accelerated[0] ?? 'cpu';
    const ortProviders = accelerated[0] ? [ORT_EP_NAME[accelerated[0]]!, 'cpu'] : ['cpu'];
    if (this.#workers > 0) {
      return OrtWorkerModel.start({
        manifest: options.manifest,
        bytes: options.bytes,
        executionProvider: chosen,
        ortProviders,
        intraOpThreads: this.#intraOpThreads,
        threads: (this.#threads ??= new OrtThreads({
          size: this.#workers,
          ...(this.#log ? { log: this.#log } : {}),
        })),
      });
    }
    const session = await ort.InferenceSession.create(options.bytes, {
      executionProviders: ortProviders,
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.#intraOpThreads,
    });
    return new OrtModel({
      manifest: options.manifest,
      session,
      Tensor: ort.Tensor as unknown as OrtTensorClass,
      executionProvider: chosen,
    });
  }
}
