import { describe, expect, it } from 'vitest';
import { checkTensor, tensorValuesToArray } from './tensors.ts';
import { tensorsDigest } from './tensor-digest.ts';

describe('checkTensor', () => {
  it('flattens nested row-major data', () => {
    const t = checkTensor({
      name: 'x',
      datatype: 'FP32',
      shape: [2, 2],
      data: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(t.data).toEqual([1, 2, 3, 4]);
  });
  it('names the tensor when data length does not match the shape', () => {
    expect(() => checkTensor({ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2] })).toThrow(
      "tensor 'x': shape [1,3] needs 3 elements but data has 2",
    );
  });
  it('names the element and datatype when a value has the wrong type', () => {
    expect(() => checkTensor({ name: 'x', datatype: 'FP32', shape: [2], data: [1, 'a'] })).toThrow(
      /element 1 is "a", expected a finite number for datatype FP32/,
    );
  });
  it('names a NaN or infinite element of typed float data, and checks an integer datatype given floats', () => {
    const data = new Float32Array([1, 2, 3, 4]);
    expect(checkTensor({ name: 'x', datatype: 'FP32', shape: [4], data }).data).toBe(data);
    data[2] = NaN;
    expect(() => checkTensor({ name: 'x', datatype: 'FP32', shape: [4], data })).toThrow(
      /tensor 'x': element 2 is NaN, expected a finite number for datatype FP32/,
    );
    expect(() =>
      checkTensor({ name: 'y', datatype: 'FP64', shape: [2], data: new Float64Array([-Infinity, 0]) }),
    ).toThrow(/element 0 is -Infinity/);
    expect(() =>
      checkTensor({ name: 'z', datatype: 'INT32', shape: [2], data: new Float32Array([1, 1.5]) }),
    ).toThrow(/element 1 is 1.5, expected an integer/);
  });
  it('refuses tensors over the element limit with PAYLOAD_TOO_LARGE', () => {
    expect(() => checkTensor({ name: 'x', datatype: 'FP32', shape: [1 << 30], data: [] })).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
  });
});

describe('tensorsDigest', () => {
  it('is independent of tensor order and equal for FP32-equal values', async () => {
    const a = { name: 'a', datatype: 'FP32' as const, shape: [1], data: [0.1] };
    const b = { name: 'b', datatype: 'INT64' as const, shape: [1], data: [3] };
    const d1 = await tensorsDigest([a, b]);
    const d2 = await tensorsDigest([b, { ...a, data: [Math.fround(0.1)] }]);
    expect(d1).toBe(d2);
    expect(d1).toMatch(/^[0-9a-f]{64}$/);
    expect(await tensorsDigest([{ ...a, data: [0.2] }, b])).not.toBe(d1);
  });
});

describe('tensorValuesToArray', () => {
  it('gives what Array.from gives for every typed array, and plain arrays as they are', () => {
    const typed = [
      new Float32Array([0.9993547797203064, -0, Number.NaN, Infinity, -Infinity, 3.4e38]),
      new Float64Array([-0, 1e-320, Number.MAX_VALUE]),
      new Int8Array([-128, 0, 127]),
      new Uint8Array([0, 255]),
      new Int16Array([-32768, 32767]),
      new Uint16Array([65535]),
      new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
      new Uint32Array([2 ** 32 - 1]),
      new Float32Array(0),
      new Float32Array(new ArrayBuffer(16), 4, 2),
    ];
    for (const data of typed) {
      const values = tensorValuesToArray(data);
      expect(Array.isArray(values)).toBe(true);
      expect(values).toEqual(Array.from(data as ArrayLike<number>));
      expect(Object.is(values[1], (data as ArrayLike<number>)[1])).toBe(true);
    }
    const plain = [1, 'a', true];
    expect(tensorValuesToArray(plain)).toBe(plain);
  });
});
