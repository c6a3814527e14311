import { describe, expect, it } from 'vitest';
import { checkTensor } from './tensors.ts';
import { tensorsDigest } from './tensor-digest.ts';

describe('checkTensor', () => {
  it('flattens nested row-major data', () => {
    const t = checkTensor({ name: 'x', datatype: 'FP32', shape: [2, 2], data: [[1, 2], [3, 4]] });
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
