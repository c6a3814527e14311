/**
 * Plain-TS twin of the feature stage inside the `vibration-anomaly` ONNX graph (see graph.ts): per axis,
 * log energy in 32 bands of the Hann-windowed spectrum, and log kurtosis of the raw signal (impulsive
 * bearing faults raise kurtosis far above a sinusoid's 1.5 or noise's 3). Training uses this; so do
 * the tests that check the graph computes the same numbers.
 */
import { fftInPlace } from '../../toolchain/fft.ts';
import {
  AXIS_COUNT,
  BAND_COUNT,
  BANDS,
  ENERGY_FLOOR_G2,
  FEATURE_COUNT,
  SPECTRUM_SCALE,
  VARIANCE_FLOOR_G2,
  WINDOW_SAMPLES,
} from './constants.ts';

/** Periodic Hann window (sums to N/2), the usual choice for spectra of stationary machine signals. */
export function hannWindow(): Float64Array {
  const w = new Float64Array(WINDOW_SAMPLES);
  for (let n = 0; n < WINDOW_SAMPLES; n++) w[n] = 0.5 * (1 - Math.cos((2 * Math.PI * n) / WINDOW_SAMPLES));
  return w;
}

const HANN = hannWindow();

/** Features of one window ([samples][axis] interleaved, in g), laid out as the graph's `features` tensor. */
export function extractVibrationFeatures(samplesG: Float32Array): Float64Array {
  if (samplesG.length !== WINDOW_SAMPLES * AXIS_COUNT) {
    throw new RangeError(
      `vibration window needs ${WINDOW_SAMPLES}×${AXIS_COUNT} samples, got ${samplesG.length}`,
    );
  }
  const features = new Float64Array(FEATURE_COUNT);
  const re = new Float64Array(WINDOW_SAMPLES);
  const im = new Float64Array(WINDOW_SAMPLES);
  for (let axis = 0; axis < AXIS_COUNT; axis++) {
    let mean = 0;
    for (let n = 0; n < WINDOW_SAMPLES; n++) mean += samplesG[n * AXIS_COUNT + axis];
    mean /= WINDOW_SAMPLES;
    let m2 = 0;
    let m4 = 0;
    for (let n = 0; n < WINDOW_SAMPLES; n++) {
      const x = samplesG[n * AXIS_COUNT + axis];
      const d2 = (x - mean) * (x - mean);
      m2 += d2;
      m4 += d2 * d2;
      re[n] = HANN[n] * x;
      im[n] = 0;
    }
    m2 /= WINDOW_SAMPLES;
    m4 /= WINDOW_SAMPLES;
    features[AXIS_COUNT * BAND_COUNT + axis] = Math.log(m4 / (m2 * m2 + VARIANCE_FLOOR_G2));

    fftInPlace(re, im);
    for (let b = 0; b < BAND_COUNT; b++) {
      let energy = 0;
      for (let k = BANDS[b].firstBin; k <= BANDS[b].lastBin; k++) energy += re[k] * re[k] + im[k] * im[k];
      features[axis * BAND_COUNT + b] = Math.log(energy * SPECTRUM_SCALE * SPECTRUM_SCALE + ENERGY_FLOOR_G2);
    }
  }
  return features;
}
