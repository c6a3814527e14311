/**
 * Runs a built model in onnxruntime-node — the runtime nodes serve it with — to measure held-out
 * accuracy. The int8 number in a manifest is therefore what ORT's integer kernels deliver, not a
 * simulation of them.
 */
import * as ort from 'onnxruntime-node';
import { LABEL_OUTPUT } from '../toolchain/mlp-graph.ts';
import type { LabelledInputs, ProjectModelDefinition } from './definition.ts';

/** One thread: results then do not depend on how work is split, and builds share the CPU politely. */
export const EVALUATION_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
};

export function batchTensor(definition: ProjectModelDefinition, inputs: Float32Array[]): ort.Tensor {
  const perExample = definition.inputShape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(inputs.length * perExample);
  inputs.forEach((x, i) => data.set(x, i * perExample));
  return new ort.Tensor('float32', data, [inputs.length, ...definition.inputShape]);
}

export async function predictLabels(
  bytes: Uint8Array,
  definition: ProjectModelDefinition,
  inputs: Float32Array[],
): Promise<number[]> {
  const session = await ort.InferenceSession.create(bytes, EVALUATION_SESSION_OPTIONS);
  try {
    const outputs = await session.run({ [definition.inputName]: batchTensor(definition, inputs) });
    return Array.from(outputs[LABEL_OUTPUT].data as BigInt64Array, Number);
  } finally {
    await session.release();
  }
}

export async function onnxAccuracy(
  bytes: Uint8Array,
  definition: ProjectModelDefinition,
  set: LabelledInputs,
): Promise<number> {
  const predicted = await predictLabels(bytes, definition, set.inputs);
  return predicted.filter((label, i) => label === set.labels[i]).length / set.labels.length;
}
