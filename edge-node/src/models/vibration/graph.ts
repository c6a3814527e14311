/**
 * The feature stage of `vibration-anomaly` as ONNX ops, so clients send the raw window
 * [batch, 512, 3] in g and every runtime computes identical features. Opsets 13–17 have no portable
 * FFT (DFT arrived in opset 17 and onnxruntime-web lacks it), so the spectrum is a MatMul with a
 * constant Hann-windowed cosine/sine basis [512, 510]; squaring and a 0/1 band-pooling MatMul
 * [510, 32] give band energies, then Log. Kurtosis comes from means of centred powers.
 */
import type { GraphBuilder } from '../../toolchain/graph-builder.ts';
import {
  AXIS_COUNT,
  BAND_COUNT,
  BANDS,
  BIN_COUNT,
  ENERGY_FLOOR_G2,
  FEATURE_COUNT,
  FIRST_BIN,
  SPECTRUM_SCALE,
  VARIANCE_FLOOR_G2,
  WINDOW_SAMPLES,
} from './constants.ts';
import { hannWindow } from './features.ts';

export const WINDOW_INPUT = 'window';
/** The window as [batch, axis, sample]: the DFT MatMul's activation input (a quantization point). */
export const AXES_MAJOR_TENSOR = 'window_axes_major';
export const DFT_MATMUL = 'spectrum';
export const BAND_POOL_MATMUL = 'band_energy';
/**
 * MatMuls the quantizer must leave in float: band pooling sums powers that span ~10 decades (one
 * uint8 scale would zero every weak band), and the moment means feed a ratio of 4th to squared 2nd
 * moments, which amplifies any rounding.
 */
export const FLOAT_ONLY_MATMULS = [BAND_POOL_MATMUL, 'window_mean', 'window_m2', 'window_m4'];

/** Columns 0..B-1 are Hann·cos(2πkn/N)·scale for k = 1..255, columns B..2B-1 the matching sines. */
export function dftBasis(): Float64Array {
  const hann = hannWindow();
  const basis = new Float64Array(WINDOW_SAMPLES * 2 * BIN_COUNT);
  for (let n = 0; n < WINDOW_SAMPLES; n++) {
    for (let c = 0; c < BIN_COUNT; c++) {
      const angle = (2 * Math.PI * (((c + FIRST_BIN) * n) % WINDOW_SAMPLES)) / WINDOW_SAMPLES;
      basis[n * 2 * BIN_COUNT + c] = hann[n] * Math.cos(angle) * SPECTRUM_SCALE;
      basis[n * 2 * BIN_COUNT + BIN_COUNT + c] = -hann[n] * Math.sin(angle) * SPECTRUM_SCALE;
    }
  }
  return basis;
}

/** 1 where spectrum column (cos or sin of bin k) belongs to band b: re² + im² summed over the band. */
function bandPoolMatrix(): Float64Array {
  const pool = new Float64Array(2 * BIN_COUNT * BAND_COUNT);
  BANDS.forEach((band, b) => {
    for (let k = band.firstBin; k <= band.lastBin; k++) {
      pool[(k - FIRST_BIN) * BAND_COUNT + b] = 1;
      pool[(BIN_COUNT + k - FIRST_BIN) * BAND_COUNT + b] = 1;
    }
  });
  return pool;
}

/** Appends the feature stage; returns the name of the `[batch, 99]` features tensor. */
export function appendVibrationFeatures(b: GraphBuilder): string {
  const x = b.op('Transpose', [WINDOW_INPUT], AXES_MAJOR_TENSOR, { perm: { ints: [0, 2, 1] } });

  const spectrum = b.op(
    'MatMul',
    [x, b.constantFloat('dft_basis', [WINDOW_SAMPLES, 2 * BIN_COUNT], dftBasis())],
    DFT_MATMUL,
  );
  const power = b.op('Mul', [spectrum, spectrum], 'spectrum_power');
  const bands = b.op(
    'MatMul',
    [power, b.constantFloat('band_pool', [2 * BIN_COUNT, BAND_COUNT], bandPoolMatrix())],
    BAND_POOL_MATMUL,
  );
  const floored = b.op(
    'Add',
    [bands, b.constantFloat('energy_floor', [], [ENERGY_FLOOR_G2])],
    'band_energy_floored',
  );
  const logBands = b.op('Log', [floored], 'log_band_energy');
  const bandFeatures = b.op(
    'Reshape',
    [logBands, b.constantInt64('band_features_shape', [2], [-1, AXIS_COUNT * BAND_COUNT])],
    'band_features',
  );

  // Means as MatMul with a constant 1/N column rather than ReduceMean: ONNX Runtime's transpose
  // optimizer pushes the Transpose above through Sub/Mul/ReduceMean, which then reduce along a strided
  // axis and cost more than the whole int8 DFT; a MatMul stops the push. These stay float (see
  // FLOAT_ONLY_MATMULS): a mean of raw samples needs more than 256 levels.
  const average = b.constantFloat(
    'sample_average',
    [WINDOW_SAMPLES, 1],
    new Float64Array(WINDOW_SAMPLES).fill(1 / WINDOW_SAMPLES),
  );
  const mean = b.op('MatMul', [x, average], 'window_mean');
  const centered = b.op('Sub', [x, mean], 'window_centered');
  const squared = b.op('Mul', [centered, centered], 'window_centered_sq');
  const m2 = b.op('MatMul', [squared, average], 'window_m2');
  const m4 = b.op('MatMul', [b.op('Mul', [squared, squared], 'window_centered_4th'), average], 'window_m4');
  const m2Squared = b.op(
    'Add',
    [b.op('Mul', [m2, m2], 'window_m2_sq'), b.constantFloat('variance_floor', [], [VARIANCE_FLOOR_G2])],
    'window_m2_sq_floored',
  );
  const logKurtosis = b.op('Log', [b.op('Div', [m4, m2Squared], 'kurtosis')], 'log_kurtosis');
  const kurtosisFeatures = b.op(
    'Reshape',
    [logKurtosis, b.constantInt64('kurtosis_features_shape', [2], [-1, AXIS_COUNT])],
    'kurtosis_features',
  );

  const features = b.op('Concat', [bandFeatures, kurtosisFeatures], 'features', { axis: { int: 1 } });
  if (AXIS_COUNT * BAND_COUNT + AXIS_COUNT !== FEATURE_COUNT)
    throw new Error('vibration feature layout out of sync');
  return features;
}
