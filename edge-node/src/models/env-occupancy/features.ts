/**
 * Plain-TS twin of the feature stage inside the `env-occupancy` graph (graph.ts). Per channel: mean
 * (level), least-squares slope per hour (CO2 still climbing means people arrived recently; its rate
 * and level together tell how far the steady state n·G/Q lies), last reading, and standard deviation
 * (motion bursts, lights switching).
 */
import {
  CHANNEL_COUNT,
  FEATURE_COUNT,
  READING_INTERVAL_S,
  STATS_PER_CHANNEL,
  WINDOW_READINGS,
} from './constants.ts';

/** Linear statistics as columns of a [readings, 3] matrix: mean, slope per hour, last reading. */
export function linearStatsBasis(): Float64Array {
  const hours = Array.from({ length: WINDOW_READINGS }, (_, r) => (r * READING_INTERVAL_S) / 3600);
  const meanHours = hours.reduce((a, b) => a + b, 0) / WINDOW_READINGS;
  // Slope = Σ (t − t̄)·x / Σ (t − t̄)²; no need to centre x because Σ (t − t̄) = 0.
  const sumSquares = hours.reduce((a, t) => a + (t - meanHours) ** 2, 0);
  const basis = new Float64Array(WINDOW_READINGS * 3);
  for (let r = 0; r < WINDOW_READINGS; r++) {
    basis[r * 3] = 1 / WINDOW_READINGS;
    basis[r * 3 + 1] = (hours[r] - meanHours) / sumSquares;
    basis[r * 3 + 2] = r === WINDOW_READINGS - 1 ? 1 : 0;
  }
  return basis;
}

const BASIS = linearStatsBasis();

/** Features of one window (readings interleaved [reading][channel]), laid out [channel][stat]. */
export function extractEnvFeatures(readings: Float32Array): Float64Array {
  if (readings.length !== WINDOW_READINGS * CHANNEL_COUNT) {
    throw new RangeError(
      `env window needs ${WINDOW_READINGS}×${CHANNEL_COUNT} readings, got ${readings.length}`,
    );
  }
  const features = new Float64Array(FEATURE_COUNT);
  for (let c = 0; c < CHANNEL_COUNT; c++) {
    const out = c * STATS_PER_CHANNEL;
    for (let r = 0; r < WINDOW_READINGS; r++) {
      const x = readings[r * CHANNEL_COUNT + c];
      for (let s = 0; s < 3; s++) features[out + s] += x * BASIS[r * 3 + s];
    }
    let variance = 0;
    for (let r = 0; r < WINDOW_READINGS; r++)
      variance += (readings[r * CHANNEL_COUNT + c] - features[out]) ** 2;
    features[out + 3] = Math.sqrt(variance / WINDOW_READINGS);
  }
  return features;
}
