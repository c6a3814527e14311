import { describe, expect, it } from 'vitest';
import { float16ToNumber, numberToFloat16, tensorFromBytes, tensorToBytes } from './tensor-bytes.ts';
import { tensorsDigest } from './tensor-digest.ts';
import { checkTensor, type Tensor } from './tensors.ts';

describe('binary tensor data', () => {
  it.each([
    ['FP32', [1.5, -2, 3.25]],
    ['INT64', [1, -2, 2 ** 40]],
    ['UINT8', [0, 7, 255]],
    ['BOOL', [true, false, true]],
    ['FP16', [0.5, -2, 65504]],
    ['BYTES', ['a', '', 'héllo']],
  ] as const)('round-trips %s', (datatype, data) => {
    const t: Tensor = { name: 't', datatype, shape: [3], data: [...data] };
    const back = tensorFromBytes(t, tensorToBytes(t));
    expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(data);
  });

  it("reads only its own bytes from a view into a bigger pool whose slice() does not copy (a Node Buffer's)", () => {
    // Like Buffer: slice() returns a view, so `.slice().buffer` would be the whole pool.
    class PoolView extends Uint8Array {
      override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
        return this.subarray(start, end);
      }
    }
    const pool = new ArrayBuffer(64);
    new Uint8Array(pool).fill(0xee); // someone else's bytes around ours
    const ours = tensorToBytes({ name: 'x', datatype: 'FP32', shape: [2], data: [1.5, -2] });
    new Uint8Array(pool, 8, ours.length).set(ours);
    for (const datatype of ['FP32', 'INT64', 'FP16'] as const) {
      const t: Tensor = { name: 'x', datatype, shape: [2], data: datatype === 'INT64' ? [3, -4] : [1.5, -2] };
      const bytes = tensorToBytes(t);
      new Uint8Array(pool, 8, bytes.length).set(bytes);
      const view = new PoolView(pool, 8, bytes.length);
      expect(Array.from(tensorFromBytes(t, view).data as ArrayLike<unknown>)).toEqual(t.data);
    }
  });

  it('lays FP32 out as little-endian IEEE floats', () => {
    expect(Array.from(tensorToBytes({ name: 'x', datatype: 'FP32', shape: [1], data: [1] }))).toEqual([
      0, 0, 0x80, 0x3f,
    ]);
  });

  it('refuses a byte length that does not fit the shape, naming the tensor', () => {
    expect(() =>
      tensorFromBytes({ name: 'img', datatype: 'FP32', shape: [2, 2] }, new Uint8Array(12)),
    ).toThrow("tensor 'img': shape [2,2] of FP32 needs 16 bytes but binary data has 12");
    expect(() =>
      tensorFromBytes({ name: 's', datatype: 'BYTES', shape: [1] }, Uint8Array.from([9, 0, 0, 0, 1])),
    ).toThrow(/runs past/);
  });

  it('converts half floats with round-to-nearest-even', () => {
    expect(numberToFloat16(1)).toBe(0x3c00);
    expect(float16ToNumber(numberToFloat16(0.1))).toBeCloseTo(0.0999755859375, 12);
    expect(numberToFloat16(1e6)).toBe(0x7c00); // overflow → +Infinity
    expect(float16ToNumber(0x0001)).toBe(2 ** -24); // smallest subnormal
  });

  it('digests a JSON tensor and its binary twin alike', async () => {
    const json: Tensor = { name: 'x', datatype: 'FP32', shape: [2], data: [0.1, 0.2] };
    const binary = tensorFromBytes(json, tensorToBytes(json));
    expect(await tensorsDigest([binary])).toBe(await tensorsDigest([json]));
    expect(await tensorsDigest([{ ...json, shape: [2, 1] }])).not.toBe(await tensorsDigest([json]));
  });
});

describe('checkTensor integer and typed data', () => {
  it('refuses integers out of the datatype range or with fractions', () => {
    expect(() => checkTensor({ name: 'q', datatype: 'INT8', shape: [1], data: [300] })).toThrow(
      /integer in \[-128, 127\]/,
    );
    expect(() => checkTensor({ name: 'q', datatype: 'INT32', shape: [1], data: [1.5] })).toThrow(
      /element 0 is 1.5/,
    );
  });
  it('keeps typed arrays and refuses NaN in them', () => {
    const t = checkTensor({ name: 'f', datatype: 'FP32', shape: [2], data: new Float32Array([1, 2]) });
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(() =>
      checkTensor({ name: 'f', datatype: 'FP32', shape: [1], data: new Float32Array([Number.NaN]) }),
    ).toThrow(/element 0/);
  });
});
