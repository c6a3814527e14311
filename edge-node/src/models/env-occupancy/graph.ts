/**
 * The feature stage of `env-occupancy` as ONNX ops, so clients send the raw readings
 * [batch, 12, 5] in sensor units: one MatMul with a constant [12, 3] basis gives mean, slope per hour
 * and last reading of every channel; centred squares averaged by a second MatMul give the standard
 * deviation. These MatMuls see raw readings whose scales differ by 10⁴ (0.1 °C vs 2000 ppm), which one
 * uint8 range cannot hold, so they stay float; only the MLP is quantized.
 */
import type { GraphBuilder } from '../../toolchain/graph-builder.ts';
import { CHANNEL_COUNT, FEATURE_COUNT, WINDOW_READINGS } from './constants.ts';
import { linearStatsBasis } from './features.ts';

export const READINGS_INPUT = 'readings';
export const FLOAT_ONLY_MATMULS = ['channel_linear_stats', 'channel_mean', 'channel_variance'];

export function appendEnvFeatures(b: GraphBuilder): string {
  const x = b.op('Transpose', [READINGS_INPUT], 'readings_channel_major', { perm: { ints: [0, 2, 1] } });
  const linear = b.op(
    'MatMul',
    [x, b.constantFloat('linear_stats_basis', [WINDOW_READINGS, 3], linearStatsBasis())],
    'channel_linear_stats',
  );
  const average = b.constantFloat(
    'reading_average',
    [WINDOW_READINGS, 1],
    new Float64Array(WINDOW_READINGS).fill(1 / WINDOW_READINGS),
  );
  const centered = b.op('Sub', [x, b.op('MatMul', [x, average], 'channel_mean')], 'readings_centered');
  const variance = b.op(
    'MatMul',
    [b.op('Mul', [centered, centered], 'readings_centered_sq'), average],
    'channel_variance',
  );
  const stats = b.op('Concat', [linear, b.op('Sqrt', [variance], 'channel_std')], 'channel_stats', {
    axis: { int: 2 },
  });
  const shape = b.constantInt64('features_shape', [2], [-1, CHANNEL_COUNT * 4]);
  if (CHANNEL_COUNT * 4 !== FEATURE_COUNT) throw new Error('env feature layout out of sync');
  return b.op('Reshape', [stats, shape], 'features');
}
