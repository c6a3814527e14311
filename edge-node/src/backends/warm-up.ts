import type { Tensor, TensorValues } from '@hexedge/protocol';
import type { TensorSpec } from '../models/manifest.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { LoadedModel } from './backend.ts';

/** Dynamic dims run at 1 for warm-up unless the manifest gives an example shape. */
function warmUpTensor(spec: TensorSpec, shape?: number[]): Tensor {
  const dims = shape ?? spec.shape.map((d) => (d === -1 ? 1 : d));
  const count = dims.reduce((a, b) => a * b, 1);
  const data: TensorValues =
    spec.datatype === 'BYTES' ? Array(count).fill('') : spec.datatype === 'BOOL' ? Array(count).fill(false) : Array(count).fill(0);
  return { name: spec.name, datatype: spec.datatype, shape: dims, data };
}

/**
 * Runs a model once on zeros before it is reported ready, so the first real request does not pay for
 * kernel selection, memory arena growth and (on WASM) JIT warm-up.
 */
export async function warmUp(model: LoadedModel, pipeline?: Pipeline): Promise<number> {
  const started = performance.now();
  if (pipeline?.warmUpInput) {
    await pipeline.run({ input: pipeline.warmUpInput(), manifest: model.manifest, runModel: (inputs) => model.run(inputs) });
    return performance.now() - started;
  }
  const shapes = model.manifest.warmupShapes;
  await model.run(model.manifest.inputs.map((spec) => warmUpTensor(spec, shapes?.[spec.name])));
  return performance.now() - started;
}
