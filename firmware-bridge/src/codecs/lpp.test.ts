import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLpp, encodeLpp } from './lpp.ts';
import { LPP_TYPES, lppSizeBytes } from './lpp-types.ts';

const hex = (s: string) => Uint8Array.from(s.split(' ').map((b) => parseInt(b, 16)));

describe('Cayenne LPP published examples', () => {
  it('decodes two temperature channels', () => {
    expect(decodeLpp(hex('03 67 01 10 05 67 00 FF'))).toEqual({ data: { temperature_3: 27.2, temperature_5: 25.5 }, errors: [], warnings: [] });
  });

  it('decodes GPS', () => {
    expect(decodeLpp(hex('01 88 06 76 5F F2 96 0A 00 03 E8')).data).toEqual({ gps_1: { latitude: 42.3519, longitude: -87.9094, altitude: 10 } });
  });

  it('decodes an accelerometer with negative axes', () => {
    expect(decodeLpp(hex('06 71 04 D2 FB 2E 00 00')).data).toEqual({ accelerometer_6: { x: 1.234, y: -1.234, z: 0 } });
  });

  it('encodes the published examples byte for byte', () => {
    expect(encodeLpp({ temperature_3: 27.2, temperature_5: 25.5 }).data).toEqual(hex('03 67 01 10 05 67 00 FF'));
    expect(encodeLpp({ gps_1: { latitude: 42.3519, longitude: -87.9094, altitude: 10 } }).data).toEqual(hex('01 88 06 76 5F F2 96 0A 00 03 E8'));
  });
});

/** A value on the type's grid, in range, for every part. */
function sampleValue(t: (typeof LPP_TYPES)[number], k: number): unknown {
  const parts = t.parts.map((p, i) => {
    const range = 2 ** (8 * p.sizeBytes);
    const step = (k * 7 + i) % 50;
    const raw = p.signed ? -Math.floor(range / 3) + step : Math.floor(range / 3) + step;
    return [p.key ?? '', Number((raw * p.resolution).toFixed(6))] as const;
  });
  return parts.length === 1 && parts[0]![0] === '' ? parts[0]![1] : Object.fromEntries(parts);
}

describe('Cayenne LPP round trips', () => {
  it('encodes and decodes every type in the table on several channels in one payload', () => {
    const value = Object.fromEntries(LPP_TYPES.map((t, i) => [`${t.name}_${i}`, sampleValue(t, i)]));
    const bytes = encodeLpp(value);
    expect(bytes.errors).toEqual([]);
    expect(bytes.data!.length).toBe(LPP_TYPES.reduce((n, t) => n + 2 + lppSizeBytes(t), 0));
    const back = decodeLpp(bytes.data!);
    expect(back.errors).toEqual([]);
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === 'number') expect(back.data![key]).toBeCloseTo(v, 6);
      else for (const [axis, a] of Object.entries(v as Record<string, number>)) expect((back.data![key] as Record<string, number>)[axis]).toBeCloseTo(a, 6);
    }
  });

  it('bytes → decode → encode gives the same bytes for any well-formed payload', () => {
    const item = fc.record({ channel: fc.integer({ min: 0, max: 255 }), typeIndex: fc.integer({ min: 0, max: LPP_TYPES.length - 1 }), seed: fc.uint8Array({ minLength: 9, maxLength: 9 }) });
    fc.assert(
      fc.property(fc.uniqueArray(item, { selector: (i) => `${i.channel}/${i.typeIndex}`, maxLength: 8 }), (items) => {
        const bytes = items.flatMap((i) => {
          const t = LPP_TYPES[i.typeIndex]!;
          return [i.channel, t.type, ...i.seed.slice(0, lppSizeBytes(t))];
        });
        const decoded = decodeLpp(Uint8Array.from(bytes));
        expect(decoded.errors).toEqual([]);
        expect(Array.from(encodeLpp(decoded.data).data!)).toEqual(bytes);
      }),
    );
  });
});

describe('Cayenne LPP bad input', () => {
  it('reports a truncated value, naming the type and offset', () => {
    const r = decodeLpp(hex('03 67 01 10 05 67 00'));
    expect(r.data).toBeUndefined();
    expect(r.errors[0]).toMatch(/truncated: temperature on channel 5 at offset 4 needs 2 value bytes, 1 left/);
  });

  it('reports a lone channel byte', () => {
    expect(decodeLpp(hex('03 67 01 10 05')).errors[0]).toMatch(/channel byte at offset 4 has no type byte/);
  });

  it('reports an unknown type', () => {
    expect(decodeLpp(hex('01 67 00 10 02 FE 00')).errors[0]).toMatch(/unknown type 0xfe \(254\) on channel 2 at offset 4/);
  });

  it('refuses to encode unknown names and out-of-range values', () => {
    expect(encodeLpp({ co2_1: 400 }).errors[0]).toMatch(/'co2_1' is not \{type\}_\{channel\}/);
    expect(encodeLpp({ relative_humidity_1: 200 }).errors[0]).toMatch(/out of range/);
    expect(encodeLpp({ gps_1: { latitude: 1 } }).errors[0]).toMatch(/gps_1.longitude must be a finite number/);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = decodeLpp(bytes);
        expect(r.data === undefined).toBe(r.errors.length > 0);
      }),
      { numRuns: 2000 },
    );
  });
});
