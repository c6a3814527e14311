import { describe, expect, it } from 'vitest';
import { createRng } from '../../toolchain/prng.ts';
import { AXIS_COUNT, BAND_COUNT, WINDOW_SAMPLES, type VibrationLabel } from './constants.ts';
import { extractVibrationFeatures } from './features.ts';
import { generateVibrationDataset, generateVibrationWindow } from './generator.ts';

function rmsG(samples: Float32Array, axis: number): number {
  let sum = 0;
  for (let n = 0; n < WINDOW_SAMPLES; n++) sum += samples[n * AXIS_COUNT + axis] ** 2;
  return Math.sqrt(sum / WINDOW_SAMPLES);
}

/** Mean of a statistic over 60 windows of one condition. */
function meanOf(label: VibrationLabel, stat: (samples: Float32Array) => number): number {
  const rng = createRng(99);
  let sum = 0;
  for (let i = 0; i < 60; i++) sum += stat(generateVibrationWindow(rng, label).samplesG);
  return sum / 60;
}

describe('vibration generator', () => {
  it('is deterministic per seed', () => {
    const a = generateVibrationDataset(createRng(5), 8);
    const b = generateVibrationDataset(createRng(5), 8);
    const c = generateVibrationDataset(createRng(6), 8);
    expect(a.map((w) => [...w.samplesG])).toEqual(b.map((w) => [...w.samplesG]));
    expect(a[0].samplesG).not.toEqual(c[0].samplesG);
    expect(a.map((w) => w.label)).toEqual([
      'normal',
      'imbalance',
      'bearing-fault',
      'misalignment',
      'normal',
      'imbalance',
      'bearing-fault',
      'misalignment',
    ]);
  });

  it('shows each fault where the physics puts it', () => {
    const radial = (s: Float32Array) => rmsG(s, 0) + rmsG(s, 1);
    const axialShare = (s: Float32Array) => rmsG(s, 2) / radial(s);
    const logKurtosisY = (s: Float32Array) => extractVibrationFeatures(s)[AXIS_COUNT * BAND_COUNT + 1];
    expect(meanOf('imbalance', radial)).toBeGreaterThan(2 * meanOf('normal', radial));
    expect(meanOf('misalignment', axialShare)).toBeGreaterThan(2 * meanOf('normal', axialShare));
    // A sinusoid has kurtosis 1.5 and Gaussian noise 3; ringing impacts push it far higher.
    expect(Math.exp(meanOf('bearing-fault', logKurtosisY))).toBeGreaterThan(
      1.5 * Math.exp(meanOf('normal', logKurtosisY)),
    );
  });
});
