import { HexEdgeError } from '../errors.ts';
import type { TensorSpec } from './manifest.ts';

/** What a request names for one input: enough to check it against the model's declared inputs. */
export interface NamedInput {
  name: string;
  datatype: string;
  shape: readonly number[];
}

function shapeMatches(spec: readonly number[], actual: readonly number[]): boolean {
  return spec.length === actual.length && spec.every((d, i) => d === -1 || d === actual[i]);
}

/**
 * Checks request inputs (and requested output names) against a model's manifest: every declared input
 * present once, no unknown names, datatype equal, shape compatible (-1 is any). The edge node runs it
 * on every request and the gateway before forwarding one, with the same code: a request the gateway
 * let through is one an honest node accepts, so a node refusing it is at fault, not the caller.
 */
export function checkInputSpecs(options: {
  model: string;
  specs: readonly TensorSpec[];
  inputs: readonly NamedInput[];
  outputSpecs?: readonly TensorSpec[];
  outputs?: readonly string[];
}): void {
  const { model, specs, inputs } = options;
  const seen = new Set<string>();
  for (const input of inputs) {
    if (seen.has(input.name)) throw new HexEdgeError('INVALID_TENSOR', `input '${input.name}' appears twice`);
    if (!specs.some((s) => s.name === input.name)) {
      throw new HexEdgeError(
        'INVALID_TENSOR',
        `model ${model} has no input '${input.name}' (inputs: ${specs.map((s) => s.name).join(', ')})`,
      );
    }
    seen.add(input.name);
  }
  for (const spec of specs) {
    const input = inputs.find((i) => i.name === spec.name);
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
  }
  if (!options.outputSpecs) return;
  for (const name of options.outputs ?? []) {
    if (!options.outputSpecs.some((o) => o.name === name)) {
      throw new HexEdgeError(
        'INVALID_TENSOR',
        `model ${model} has no output '${name}' (outputs: ${options.outputSpecs.map((o) => o.name).join(', ')})`,
      );
    }
  }
}
