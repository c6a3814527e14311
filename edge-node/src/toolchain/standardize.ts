/**
 * Per-feature standardisation (z = (x − mean) / std). Its statistics come from the training set and
 * are written into the ONNX graph as a Sub/Mul pair, so clients send raw feature values and the MLP's
 * first MatMul sees unit-scale inputs — which also gives its int8 activation one sensible range.
 */

export interface Standardizer {
  mean: Float64Array;
  /** 1 / std, stored as a multiplier because that is what the graph applies. */
  inverseStd: Float64Array;
}

/** Features whose spread is below this are constant in practice; scaling them up would only amplify rounding. */
const MIN_STD = 1e-6;

export function fitStandardizer(features: Float64Array[]): Standardizer {
  const count = features[0].length;
  const mean = new Float64Array(count);
  const variance = new Float64Array(count);
  for (const row of features) for (let i = 0; i < count; i++) mean[i] += row[i];
  for (let i = 0; i < count; i++) mean[i] = Math.fround(mean[i] / features.length);
  for (const row of features) for (let i = 0; i < count; i++) variance[i] += (row[i] - mean[i]) ** 2;
  const inverseStd = new Float64Array(count);
  for (let i = 0; i < count; i++)
    inverseStd[i] = Math.fround(1 / Math.max(MIN_STD, Math.sqrt(variance[i] / features.length)));
  return { mean, inverseStd };
}

/** Applies z = (x − mean) · inverseStd in the same order as the graph's Sub then Mul. */
export function standardize(s: Standardizer, x: Float64Array): Float64Array {
  const z = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) z[i] = (x[i] - s.mean[i]) * s.inverseStd[i];
  return z;
}
