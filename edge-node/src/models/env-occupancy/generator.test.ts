import { describe, expect, it } from 'vitest';
import { createRng } from '../../toolchain/prng.ts';
import { CHANNEL_COUNT, WINDOW_READINGS, type EnvLabel } from './constants.ts';
import { generateEnvDataset, generateEnvWindow, saturationVapourDensityGPerM3 } from './generator.ts';

const CO2 = 2;
const MOTION = 4;

function meanLast(label: EnvLabel, channel: number): number {
  const rng = createRng(21);
  let sum = 0;
  for (let i = 0; i < 200; i++)
    sum += generateEnvWindow(rng, label).readings[(WINDOW_READINGS - 1) * CHANNEL_COUNT + channel];
  return sum / 200;
}

describe('env generator', () => {
  it('is deterministic per seed', () => {
    const a = generateEnvDataset(createRng(5), 6);
    expect(a.map((w) => [...w.readings])).toEqual(
      generateEnvDataset(createRng(5), 6).map((w) => [...w.readings]),
    );
    expect(a[0].readings).not.toEqual(generateEnvDataset(createRng(6), 6)[0].readings);
  });

  it('uses the standard saturation vapour density (17.3 g/m³ at 20 °C)', () => {
    // Steam tables give 17.3; the Magnus fit is within 0.5 % over room temperatures.
    expect(Math.abs(saturationVapourDensityGPerM3(20) - 17.3)).toBeLessThan(0.1);
  });

  it('follows the CO2 mass balance and PIR behaviour', () => {
    // C_ss − C_out = G/q: ≈ 240–600 ppm at 8–20 L/s·person, ≈ 900–3500 ppm at 1.5–5.
    expect(meanLast('occupied-poorly-ventilated', CO2)).toBeGreaterThan(
      meanLast('occupied-ventilated', CO2) + 400,
    );
    expect(meanLast('occupied-ventilated', CO2)).toBeGreaterThan(meanLast('empty', CO2));
    expect(meanLast('empty', MOTION)).toBeLessThan(0.1);
    expect(meanLast('occupied-ventilated', MOTION)).toBeGreaterThan(1);
  });

  it('reports at payload resolution (0.1 °C, 0.5 %RH, whole ppm)', () => {
    const { readings } = generateEnvWindow(createRng(1), 'occupied-ventilated');
    for (let r = 0; r < WINDOW_READINGS; r++) {
      expect(
        Math.abs(readings[r * CHANNEL_COUNT] * 10 - Math.round(readings[r * CHANNEL_COUNT] * 10)),
      ).toBeLessThan(1e-3);
      expect(Number.isInteger(readings[r * CHANNEL_COUNT + 1] * 2)).toBe(true);
      expect(Number.isInteger(readings[r * CHANNEL_COUNT + CO2])).toBe(true);
    }
  });
});
