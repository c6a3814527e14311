/**
 * Writes a trained MLP and its standardiser into a graph: Sub/Mul (standardise), then MatMul + Add
 * (+ Relu) per layer, then Softmax → `probabilities` and ArgMax → `label`. Also reports, for static
 * quantization, which tensors feed each MatMul and their observed ranges on calibration data.
 */
import type { GraphBuilder } from './graph-builder.ts';
import { mlpActivations, type Mlp } from './mlp.ts';
import type { ActivationRange } from './quantize.ts';
import { standardize, type Standardizer } from './standardize.ts';

export const PROBABILITIES_OUTPUT = 'probabilities';
export const LABEL_OUTPUT = 'label';

/** Tensor that feeds layer `l`'s MatMul: the standardised features, then each hidden ReLU. */
export function mlpLayerInputName(l: number): string {
  return l === 0 ? 'features_standardized' : `dense${l - 1}_relu`;
}

export function appendMlp(b: GraphBuilder, o: { input: string; standardizer: Standardizer; mlp: Mlp }): void {
  const featureCount = o.standardizer.mean.length;
  const centered = b.op(
    'Sub',
    [o.input, b.constantFloat('feature_mean', [featureCount], o.standardizer.mean)],
    'features_centered',
  );
  let x = b.op(
    'Mul',
    [centered, b.constantFloat('feature_inverse_std', [featureCount], o.standardizer.inverseStd)],
    mlpLayerInputName(0),
  );
  o.mlp.layers.forEach((layer, l) => {
    const weights = b.constantFloat(
      `dense${l}_weights`,
      [layer.inputCount, layer.outputCount],
      layer.weights,
    );
    const product = b.op('MatMul', [x, weights], `dense${l}_matmul`);
    const sum = b.op(
      'Add',
      [product, b.constantFloat(`dense${l}_bias`, [layer.outputCount], layer.bias)],
      `dense${l}_out`,
    );
    x = l < o.mlp.layers.length - 1 ? b.op('Relu', [sum], mlpLayerInputName(l + 1)) : sum;
  });
  b.op('Softmax', [x], PROBABILITIES_OUTPUT, { axis: { int: -1 } });
  b.op('ArgMax', [x], LABEL_OUTPUT, { axis: { int: 1 }, keepdims: { int: 0 } });
}

/** Min/max of every MLP MatMul input over the calibration features (raw, before standardisation). */
export function mlpActivationRanges(o: {
  standardizer: Standardizer;
  mlp: Mlp;
  features: Float64Array[];
}): Record<string, ActivationRange> {
  const ranges: Record<string, ActivationRange> = {};
  for (const raw of o.features) {
    const activations = mlpActivations(o.mlp, standardize(o.standardizer, raw));
    for (let l = 0; l < o.mlp.layers.length; l++) observeRange(ranges, mlpLayerInputName(l), activations[l]);
  }
  return ranges;
}

export function observeRange(
  ranges: Record<string, ActivationRange>,
  name: string,
  values: ArrayLike<number>,
): void {
  const range = (ranges[name] ??= { min: Infinity, max: -Infinity });
  for (let i = 0; i < values.length; i++) {
    if (values[i] < range.min) range.min = values[i];
    if (values[i] > range.max) range.max = values[i];
  }
}
