import { describe, expect, it } from 'vitest';
import { inputSpecSchema } from '../registry/profile-schema.ts';
import { InputBuilder } from './input-builder.ts';

const MIN = 60_000;

describe('InputBuilder', () => {
  it('converts units and normalizes tensor fields in the profile order', () => {
    const spec = inputSpecSchema.parse({
      kind: 'tensor',
      name: 'x',
      fields: [
        { path: 'b.f', scale: 5 / 9, add: -160 / 9 },
        { path: 'a', normalize: { mean: 10, std: 2 } },
        { path: 'c', normalize: { min: 0, max: 200 } },
      ],
    });
    const built = new InputBuilder().build({
      devEui: 'd',
      spec,
      decoded: { a: 14, b: { f: 212 }, c: 50 },
      timeMs: 0,
    });
    expect(built).toMatchObject({
      status: 'ready',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3] }],
    });
    const data = (built as { inputs: { data: number[] }[] }).inputs[0]!.data;
    expect(data[0]).toBeCloseTo(100, 9);
    expect(data.slice(1)).toEqual([2, 0.25]);
  });

  it('keeps a sliding tensor window of the last N readings per device', () => {
    const spec = inputSpecSchema.parse({
      kind: 'tensor',
      name: 'x',
      fields: [{ path: 'v' }],
      windowReadings: 3,
    });
    const b = new InputBuilder();
    const results = [1, 2, 3, 4].map((v) => b.build({ devEui: 'd', spec, decoded: { v }, timeMs: v * MIN }));
    expect(results[1]).toEqual({ status: 'buffering', haveReadings: 2, needReadings: 3 });
    expect(results[3]).toEqual({
      status: 'ready',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 1], data: [2, 3, 4] }],
    });
    expect(b.build({ devEui: 'other', spec, decoded: { v: 9 }, timeMs: 0 })).toMatchObject({
      status: 'buffering',
      haveReadings: 1,
    });
  });

  it('restarts a reading window after a gap of more than maxGapIntervals', () => {
    const spec = inputSpecSchema.parse({
      kind: 'reading-window',
      readings: 3,
      readingIntervalS: 300,
      fields: { t: 'temperature_1' },
    });
    const b = new InputBuilder();
    b.build({ devEui: 'd', spec, decoded: { temperature_1: 20 }, timeMs: 0 });
    b.build({ devEui: 'd', spec, decoded: { temperature_1: 21 }, timeMs: 5 * MIN });
    const gap = b.build({ devEui: 'd', spec, decoded: { temperature_1: 22 }, timeMs: 30 * MIN });
    expect(gap).toEqual({
      status: 'buffering',
      haveReadings: 1,
      needReadings: 3,
      note: 'window restarted: 1500 s since the last reading (interval 300 s)',
    });
    b.build({ devEui: 'd', spec, decoded: { temperature_1: 23 }, timeMs: 35 * MIN });
    expect(b.build({ devEui: 'd', spec, decoded: { temperature_1: 24 }, timeMs: 40 * MIN })).toEqual({
      status: 'ready',
      input: { readingIntervalS: 300, readings: [{ t: 22 }, { t: 23 }, { t: 24 }] },
    });
  });

  it('assembles a sample burst from fragments in order and drops a capture with a lost fragment', () => {
    const spec = inputSpecSchema.parse({
      kind: 'sample-burst',
      samples: 4,
      sampleRateHz: 3200,
      captureField: 'c',
      fragmentField: 'f',
      axes: { x: 'x' },
    });
    const b = new InputBuilder();
    expect(b.build({ devEui: 'd', spec, decoded: { c: 1, f: 0, x: [1, 2] }, timeMs: 0 })).toMatchObject({
      status: 'buffering',
      haveReadings: 2,
    });
    expect(b.build({ devEui: 'd', spec, decoded: { c: 1, f: 1, x: [3, 4] }, timeMs: 0 })).toEqual({
      status: 'ready',
      input: { sampleRateHz: 3200, accelerationG: { x: [1, 2, 3, 4] } },
    });
    b.build({ devEui: 'd', spec, decoded: { c: 2, f: 0, x: [1, 2] }, timeMs: 0 });
    expect(b.build({ devEui: 'd', spec, decoded: { c: 2, f: 2, x: [5, 6] }, timeMs: 0 })).toMatchObject({
      status: 'buffering',
      haveReadings: 0,
      note: expect.stringMatching(/arrived without its predecessors/),
    });
  });

  it('names a missing or non-numeric field', () => {
    const spec = inputSpecSchema.parse({ kind: 'tensor', name: 'x', fields: [{ path: 'gps_1.latitude' }] });
    expect(new InputBuilder().build({ devEui: 'd', spec, decoded: {}, timeMs: 0 })).toEqual({
      status: 'invalid',
      reason: "decoded payload has no field 'gps_1.latitude'",
    });
    expect(
      new InputBuilder().build({ devEui: 'd', spec, decoded: { gps_1: { latitude: 'n' } }, timeMs: 0 }),
    ).toEqual({ status: 'invalid', reason: 'field \'gps_1.latitude\' is "n", not a finite number' });
    // A value nested deeper than JSON.stringify can print (a forged or odd decoded payload): named, not thrown.
    const deep = JSON.parse(`{"gps_1":{"latitude":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`) as Record<
      string,
      unknown
    >;
    expect(new InputBuilder().build({ devEui: 'd', spec, decoded: deep, timeMs: 0 })).toEqual({
      status: 'invalid',
      reason: "field 'gps_1.latitude' is an array of 1 item, not a finite number",
    });
  });
});
