import type { ExecutionProvider } from '@hexedge/protocol';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { buildComfortIndexModel } from '../models/comfort-index.ts';
import type { ModelManifest } from '../models/manifest.ts';
import type { InferenceBackend, LoadedModel } from '../backends/backend.ts';
import { OrtModel, type OrtTensorClass } from '../backends/ort-model.ts';

export interface OrtNodeBackendOptions {
  /** Intra-op threads per session; 0 lets ONNX Runtime choose (one per core). */
  intraOpThreads?: number;
  /** Accelerated execution providers to try, best first; each is probed once at start-up. */
  accelerators?: readonly ExecutionProvider[];
}

/** onnxruntime-node's names for our execution providers. */
const ORT_EP_NAME: Partial<Record<ExecutionProvider, string>> = {
  cuda: 'cuda',
  tensorrt: 'tensorrt',
  qnn: 'qnn',
  coreml: 'coreml',
  cpu: 'cpu',
};
export const DEFAULT_ACCELERATORS: readonly ExecutionProvider[] = ['tensorrt', 'cuda', 'qnn', 'coreml'];

/**
 * onnxruntime-node: the native CPU execution provider everywhere, plus whichever accelerated providers
 * (CUDA, TensorRT, an NPU's QNN) actually open a session on this machine. The npm package ships CPU
 * binaries only; the CUDA ones come from ONNX Runtime's GPU install, whose downloading install script
 * the root package.json denies.
 */
export class OrtNodeBackend implements InferenceBackend {
  readonly name = 'onnxruntime-node';
  readonly executionProviders: readonly ExecutionProvider[];
  readonly #intraOpThreads: number;

  private constructor(executionProviders: readonly ExecutionProvider[], intraOpThreads: number) {
    this.executionProviders = executionProviders;
    this.#intraOpThreads = intraOpThreads;
  }

  /** Probes each accelerator by opening a tiny session on it; any failure means "not here". */
  static async create(options: OrtNodeBackendOptions = {}): Promise<OrtNodeBackend> {
    const found: ExecutionProvider[] = [];
    const probe = buildComfortIndexModel();
    for (const ep of options.accelerators ?? []) {
      const name = ORT_EP_NAME[ep];
      // Without its provider library ORT would only log a loud load failure: skip the probe.
      if (!name || !providerLibraryPresent(ep)) continue;
      try {
        const session = await ort.InferenceSession.create(probe, {
          executionProviders: [name],
          logSeverityLevel: 4,
        });
        await session.release();
        found.push(ep);
      } catch {
        // Not built into this install, no device, or no driver: the CPU path still serves.
      }
    }
    return new OrtNodeBackend([...found, 'cpu'], options.intraOpThreads ?? 1);
  }

  async load(options: { manifest: ModelManifest; bytes: Uint8Array }): Promise<LoadedModel> {
    const accelerated = options.manifest.prefersAccelerator
      ? this.executionProviders.filter((ep) => ep !== 'cpu')
      : [];
    const chosen: ExecutionProvider = accelerated[0] ?? 'cpu';
    const session = await ort.InferenceSession.create(options.bytes, {
      executionProviders: accelerated.length === 0 ? ['cpu'] : [ORT_EP_NAME[chosen]!, 'cpu'],
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

/** Shared-library providers live beside the addon (CoreML is built in on macOS). */
function providerLibraryPresent(ep: ExecutionProvider): boolean {
  if (ep === 'coreml') return process.platform === 'darwin';
  const addon = createRequire(import.meta.url).resolve('onnxruntime-node');
  const binDir = path.join(path.dirname(addon), '..', 'bin', `napi-v6`, process.platform, process.arch);
  const ext = process.platform === 'win32' ? 'dll' : 'so';
  const prefix = process.platform === 'win32' ? '' : 'lib';
  return existsSync(path.join(binDir, `${prefix}onnxruntime_providers_${ep}.${ext}`));
}
