import type { ExecutionProvider } from '@hexedge/protocol';
import type { ModelManifest } from '../models/manifest.ts';
import type { InferenceBackend } from './backend.ts';

export type BackendChoice = 'auto' | 'onnxruntime-node' | 'onnxruntime-web';

const ACCELERATORS: readonly ExecutionProvider[] = [
  'tensorrt',
  'cuda',
  'webgpu',
  'openvino',
  'qnn',
  'coreml',
];

export const hasAccelerator = (b: InferenceBackend) =>
  b.executionProviders.some((ep) => ACCELERATORS.includes(ep));

/**
 * Picks the backend for one model. Forced by config when asked; otherwise a model that prefers an
 * accelerator goes to a backend that has one, and everything else to the first backend listed (the
 * native one when it loads, WASM otherwise). Backends are listed best first.
 */
export function chooseBackend(options: {
  manifest: ModelManifest;
  backends: readonly InferenceBackend[];
  force: BackendChoice;
}): InferenceBackend {
  const { manifest, backends, force } = options;
  if (force !== 'auto') {
    const forced = backends.find((b) => b.name === force);
    if (!forced)
      throw new Error(
        `backend ${force} is not available on this node (available: ${backends.map((b) => b.name).join(', ')})`,
      );
    return forced;
  }
  if (backends.length === 0) throw new Error('no inference backend is available on this node');
  if (manifest.prefersAccelerator) return backends.find(hasAccelerator) ?? backends[0]!;
  return backends[0]!;
}
