import { describe, expect, it } from 'vitest';
import { preprocessEnv, preprocessVibration } from './pipelines.ts';

const capture = () => ({
  sampleRateHz: 3200,
  accelerationG: { x: new Array(512).fill(0.1), y: new Array(512).fill(0.2), z: new Array(512).fill(0.3) },
});
const reading = { temperatureC: 21.5, humidityPct: 40, co2Ppm: 650, lightLux: 320, motionCount: 2 };

describe('preprocessVibration', () => {
  it('interleaves the axes as the model input [1, 512, 3]', () => {
    const t = preprocessVibration(capture());
    expect(t.shape).toEqual([1, 512, 3]);
    expect(Array.from(t.data.slice(0, 3) as Float32Array)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
  });

  it('names what is wrong', () => {
    expect(() => preprocessVibration({ ...capture(), sampleRateHz: 1600 })).toThrow(
      /sampleRateHz must be 3200, got 1600/,
    );
    const short = capture();
    short.accelerationG.y = [0.1];
    expect(() => preprocessVibration(short)).toThrow(/accelerationG.y.length must be 512, got 1/);
    const bad = capture();
    bad.accelerationG.z[7] = Number.NaN;
    expect(() => preprocessVibration(bad)).toThrow(/accelerationG.z\[7\] must be a finite number/);
    expect(() => preprocessVibration({ ...capture(), sampleRate: 3200 })).toThrow(/no field 'sampleRate'/);
  });
});

describe('preprocessEnv', () => {
  it('lays readings out as [1, 12, 5] in channel order', () => {
    const t = preprocessEnv({ readingIntervalS: 300, readings: new Array(12).fill(reading) });
    expect(t.shape).toEqual([1, 12, 5]);
    expect(Array.from(t.data.slice(0, 5) as Float32Array)).toEqual([21.5, 40, 650, 320, 2]);
  });

  it('names what is wrong', () => {
    expect(() => preprocessEnv({ readingIntervalS: 600, readings: [] })).toThrow(
      /readingIntervalS must be 300, got 600/,
    );
    expect(() => preprocessEnv({ readingIntervalS: 300, readings: new Array(11).fill(reading) })).toThrow(
      /readings.length must be 12, got 11/,
    );
    const readings = new Array(12).fill(reading);
    readings[3] = { ...reading, co2Ppm: '650' };
    expect(() => preprocessEnv({ readingIntervalS: 300, readings })).toThrow(
      /readings\[3\].co2Ppm must be a finite number, got "650"/,
    );
  });
});
