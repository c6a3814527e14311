import { asTypedTensor, checkTensor, HexEdgeError, type NumericArray, type Tensor, type TensorData, type TensorDatatype } from '@hexedge/protocol';

type GivenInput = { name: string; datatype: TensorDatatype; shape: number[]; data: TensorData | NumericArray };
import type { TensorSpec } from '../models/manifest.ts';

function shapeMatches(spec: readonly number[], actual: readonly number[]): boolean {
  return spec.length === actual.length && spec.every((d, i) => d === -1 || d === actual[i]);
}

/**
 * Checks request inputs against the model's declared inputs: every declared input present once, no
 * unknown names, datatype equal, shape compatible (-1 is any), data length and element types right.
 * The error names the tensor and the mismatch, as a client needs to fix the request.
 */
export function checkInputs(options: { model: string; specs: readonly TensorSpec[]; inputs: readonly GivenInput[] }): Tensor[] {
  const { model, specs, inputs } = options;
  const byName = new Map<string, GivenInput>();
  for (const input of inputs) {
    if (byName.has(input.name)) throw new HexEdgeError('INVALID_TENSOR', `input '${input.name}' appears twice`);
    if (!specs.some((s) => s.name === input.name)) {
      throw new HexEdgeError(
        'INVALID_TENSOR',
        `model ${model} has no input '${input.name}' (inputs: ${specs.map((s) => s.name).join(', ')})`,
      );
    }
    byName.set(input.name, input);
  }
  return specs.map((spec) => {
    const input = byName.get(spec.name);
    if (!input) throw new HexEdgeError('INVALID_TENSOR', `model ${model} needs input '${spec.name}'`);
    if (input.datatype !== spec.datatype) {
      throw new HexEdgeError(
        'INVALID_TENSOR',
        `input '${spec.name}' has datatype ${input.datatype}, model ${model} expects ${spec.datatype}`,
      );
    }
    if (!shapeMatches(spec.shape, input.shape)) {
      throw new HexEdgeError(
        'INVALID_TENSOR',
        `input '${spec.name}' has shape ${JSON.stringify(input.shape)}, model ${model} expects ${JSON.stringify(spec.shape)} (-1 = any)`,
      );
    }
    return asTypedTensor(checkTensor(input));
  });
}
