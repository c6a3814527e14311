/**
 * Sensor and spectrum layout of the `vibration-anomaly` model, shared by the generator, the plain-TS
 * feature extraction and the ONNX graph so the three cannot drift apart.
 */

/** 3200 Hz is the top output data rate of common MEMS accelerometers (ADXL345, ADXL355, LIS3DH-class). */
export const SAMPLE_RATE_HZ = 3200;
/** 512 samples = 160 ms = 4 shaft turns at 1500 rpm; a power of two so the plain-TS path can use an FFT. */
export const WINDOW_SAMPLES = 512;
/** x = radial horizontal, y = radial vertical, z = axial (along the shaft). */
export const AXES = ['x', 'y', 'z'] as const;
export const AXIS_COUNT = AXES.length;
/** Bin spacing of the DFT: 3200 / 512 = 6.25 Hz. */
export const BIN_WIDTH_HZ = SAMPLE_RATE_HZ / WINDOW_SAMPLES;
/** Bins 1..N/2-1: DC carries no fault information and the Nyquist bin has no sine part. */
export const FIRST_BIN = 1;
export const LAST_BIN = WINDOW_SAMPLES / 2 - 1;
export const BIN_COUNT = LAST_BIN - FIRST_BIN + 1;

/**
 * Band layout: one band per bin up to 100 Hz (bins 1–16), where 1×/2×/3× of a 20–30 Hz shaft and the
 * 100/120 Hz electrical line live and must be told apart, then 16 geometrically widening bands up to
 * 1.6 kHz, where only the energy of bearing resonances matters.
 */
export const NARROW_BAND_LAST_BIN = 16;
export const WIDE_BAND_COUNT = 16;

function bandEdges(): { firstBin: number; lastBin: number }[] {
  const bands: { firstBin: number; lastBin: number }[] = [];
  for (let k = FIRST_BIN; k <= NARROW_BAND_LAST_BIN; k++) bands.push({ firstBin: k, lastBin: k });
  const start = NARROW_BAND_LAST_BIN + 1;
  const ratio = Math.pow((LAST_BIN + 1) / start, 1 / WIDE_BAND_COUNT);
  let lo = start;
  for (let b = 1; b <= WIDE_BAND_COUNT; b++) {
    const hi = b === WIDE_BAND_COUNT ? LAST_BIN : Math.max(lo, Math.round(start * Math.pow(ratio, b)) - 1);
    bands.push({ firstBin: lo, lastBin: hi });
    lo = hi + 1;
  }
  return bands;
}

export const BANDS = bandEdges();
export const BAND_COUNT = BANDS.length;
/** Per axis: log band energies, then one log-kurtosis per axis. */
export const FEATURE_COUNT = AXIS_COUNT * BAND_COUNT + AXIS_COUNT;

/**
 * Spectra are scaled so a sinusoid of amplitude A g shows |X_k| ≈ A at its bin: the periodic Hann
 * window sums to N/2, and a real tone splits its energy between ±k, hence 2 / (N/2).
 */
export const SPECTRUM_SCALE = 4 / WINDOW_SAMPLES;
/**
 * Floor added before the logarithm, in g². The sensor noise floor (≥ 0.01 g rms white) puts ≈1e-6 g²
 * in every bin, so 1e-9 never hides a real signal but keeps log finite on an all-zero window.
 */
export const ENERGY_FLOOR_G2 = 1e-9;
/** Keeps kurtosis finite on a constant window (variance 0); far below any real variance in g². */
export const VARIANCE_FLOOR_G2 = 1e-12;

export const LABELS = ['normal', 'imbalance', 'bearing-fault', 'misalignment'] as const;
export type VibrationLabel = (typeof LABELS)[number];
