import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binaryFieldSchema, decodeBinary, encodeBinary, type BinaryField } from './binary-schema.ts';

const schema = (fields: unknown[]): BinaryField[] => fields.map((f) => binaryFieldSchema.parse(f));

/** A custom tracker layout: battery mV (BE), temperature (LE, 0.01 °C), flags in one byte, a counter. */
const TRACKER = schema([
  { name: 'batteryMv', offset: 0, type: 'uint16' },
  { name: 'temperatureC', offset: 2, type: 'int16', endian: 'little', scale: 0.01 },
  { name: 'moving', offset: 4, type: 'uint8', bits: { start: 0, length: 1 } },
  { name: 'mode', offset: 4, type: 'uint8', bits: { start: 1, length: 3 } },
  { name: 'humidityPct', offset: 5, type: 'uint8', scale: 0.5 },
  { name: 'pressureHpa', offset: 6, type: 'uint16', scale: 0.1, add: 300 },
  { name: 'steps', offset: 8, type: 'uint32', endian: 'little' },
]);

describe('declarative binary schema', () => {
  it('decodes integers of each endianness, scales, offsets and bit fields', () => {
    const bytes = Uint8Array.of(0x0e, 0x74, 0x41, 0xf8, 0b0000_1011, 97, 0x1b, 0x58, 0x10, 0x27, 0, 0);
    expect(decodeBinary(bytes, TRACKER)).toEqual({
      data: { batteryMv: 3700, temperatureC: -19.83, moving: 1, mode: 5, humidityPct: 48.5, pressureHpa: 1000, steps: 10000 },
      errors: [],
      warnings: [],
    });
  });

  it('round-trips through encode, bit fields sharing a byte included', () => {
    const value = { batteryMv: 3700, temperatureC: -19.83, moving: 1, mode: 5, humidityPct: 48.5, pressureHpa: 1000, steps: 10000 };
    const bytes = encodeBinary(value, TRACKER);
    expect(bytes.errors).toEqual([]);
    expect(decodeBinary(bytes.data!, TRACKER).data).toEqual(value);
  });

  it('reads interleaved sample arrays with count and stride', () => {
    const fields = schema([
      { name: 'x', offset: 0, type: 'int16', endian: 'little', count: 3, stride: 4 },
      { name: 'y', offset: 2, type: 'int16', endian: 'little', count: 3, stride: 4 },
    ]);
    const bytes = Uint8Array.of(1, 0, 0xff, 0xff, 2, 0, 0xfe, 0xff, 3, 0, 0xfd, 0xff);
    expect(decodeBinary(bytes, fields).data).toEqual({ x: [1, 2, 3], y: [-1, -2, -3] });
    expect(encodeBinary({ x: [1, 2, 3], y: [-1, -2, -3] }, fields).data).toEqual(bytes);
  });

  it('decodes float32', () => {
    const fields = schema([{ name: 'v', offset: 0, type: 'float32', endian: 'little' }]);
    expect(decodeBinary(encodeBinary({ v: 1.5 }, fields).data!, fields).data).toEqual({ v: 1.5 });
  });

  it('names a field that lies past the end of the payload', () => {
    const r = decodeBinary(Uint8Array.of(0x0e, 0x74, 0x61), TRACKER);
    expect(r.data).toBeUndefined();
    expect(r.errors).toEqual(["field 'temperatureC' needs bytes 2..3 but the payload has 3 bytes"]);
  });

  it('warns about trailing bytes', () => {
    expect(decodeBinary(Uint8Array.of(1, 2, 3), schema([{ name: 'a', offset: 0, type: 'uint8' }])).warnings).toEqual(['2 trailing byte(s) not described by the schema']);
  });

  it('refuses out-of-range values and missing fields on encode', () => {
    expect(encodeBinary({ ...{ batteryMv: 70000 } }, TRACKER).errors[0]).toMatch(/'batteryMv' = 70000 is out of range/);
    expect(encodeBinary({ batteryMv: 1 }, TRACKER).errors[0]).toMatch(/field 'temperatureC' must be a finite number, got undefined/);
    expect(encodeBinary({ ...{ batteryMv: 1, temperatureC: 0, moving: 2 } }, TRACKER).errors[0]).toMatch(/'moving' = 2 is out of range \(raw 2 not in \[0, 1\]\)/);
  });

  it('rejects a bit range wider than its integer', () => {
    expect(binaryFieldSchema.safeParse({ name: 'f', offset: 0, type: 'uint8', bits: { start: 4, length: 5 } }).error?.issues[0]?.message).toMatch(/do not fit a uint8/);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        const r = decodeBinary(bytes, TRACKER);
        expect(r.data === undefined).toBe(r.errors.length > 0);
        if (r.data) expect(decodeBinary(encodeBinary(r.data, TRACKER).data!, TRACKER).data).toEqual(r.data);
      }),
      { numRuns: 1000 },
    );
  });
});
