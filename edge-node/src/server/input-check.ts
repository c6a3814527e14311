import { asTypedTensor, checkInputSpecs, checkTensor, type NumericArray, type Tensor, type TensorData, type TensorDatatype } from '@hexedge/protocol';

type GivenInput = { name: string; datatype: TensorDatatype; shape: number[]; data: TensorData | NumericArray };
import type { TensorSpec } from '../models/manifest.ts';

/**
 * Checks request inputs against the model's declared inputs: every declared input present once, no
 * unknown names, datatype equal, shape compatible (-1 is any), data length and element types right.
 * The error names the tensor and the mismatch, as a client needs to fix the request. The spec check is
 * protocol's `checkInputSpecs`, the one the gateway runs before forwarding (so an honest node never
 * refuses a request the gateway let through).
 */
export function checkInputs(options: { model: string; specs: readonly TensorSpec[]; inputs: readonly GivenInput[] }): Tensor[] {
  const { model, specs, inputs } = options;
  checkInputSpecs({ model, specs, inputs });
  return specs.map((spec) => asTypedTensor(checkTensor(inputs.find((i) => i.name === spec.name)!)));
}
