import { describe, expect, it } from 'vitest';
import { buildComfortIndexModel, comfortIndexManifest } from '../models/comfort-index.ts';
import { missingPrerequisite, probeAccelerators } from './accelerator-probe.ts';
import { DEFAULT_ACCELERATORS, OrtNodeBackend } from './ort-node.ts';

/*
 * Accelerator probing on this machine with the real onnxruntime-node: WebGPU (Dawn) is compiled into
 * the npm package, so where a Vulkan loader exists the probe opens a session and either finds an
 * adapter or says why not; CUDA's provider libraries never come from npm.
 */
describe('accelerator probe', () => {
  it('names what an accelerator lacks before trying it', () => {
    expect(missingPrerequisite('cuda')).toBe('no provider library (libonnxruntime_providers_cuda)');
    expect(missingPrerequisite('coreml')).toBe(process.platform === 'darwin' ? undefined : 'macOS only');
    expect(missingPrerequisite('wasm')).toBe('not an onnxruntime-node provider');
  });

  it('finds WebGPU or says why not, in candidate order, without the driver’s noise reaching this process', async () => {
    const result = await probeAccelerators(['cuda', 'webgpu']);
    expect(result.unavailable[0]).toEqual({
      ep: 'cuda',
      reason: 'no provider library (libonnxruntime_providers_cuda)',
    });
    const webgpu = result.unavailable.find((u) => u.ep === 'webgpu');
    if (result.found.includes('webgpu')) {
      expect(webgpu).toBeUndefined();
    } else if (missingPrerequisite('webgpu')) {
      expect(webgpu!.reason).toBe('no Vulkan loader (libvulkan.so.1)');
    } else {
      // A Vulkan loader but no adapter Dawn accepts (none at all, or e.g. Mesa's lavapipe lacking a feature).
      expect(webgpu!.reason).toMatch(/^Failed to get a WebGPU adapter: /);
      expect(webgpu!.reason).not.toMatch(/probe process|no answer/);
    }
  });

  it('loads a model that prefers an accelerator on the best one found, else on the CPU, and it answers', async () => {
    const backend = await OrtNodeBackend.create({ accelerators: DEFAULT_ACCELERATORS, workers: 1 });
    expect(backend.executionProviders.at(-1)).toBe('cpu');
    expect(backend.executionProviders.length + backend.unavailableAccelerators.length).toBe(
      DEFAULT_ACCELERATORS.length + 1,
    );
    const bytes = buildComfortIndexModel();
    const manifest = { ...(await comfortIndexManifest(bytes)), prefersAccelerator: true };
    const model = await backend.load({ manifest, bytes });
    try {
      expect(model.executionProvider).toBe(backend.executionProviders[0]);
      const [out] = await model.run([
        { name: 'readings', datatype: 'FP32', shape: [1, 3], data: new Float32Array([22, 45, 600]) },
      ]);
      expect(out!.shape).toEqual([1, 3]);
    } finally {
      await model.release();
    }
  });
});
