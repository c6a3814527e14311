import { tensorsDigest, tensorsDigestInput, type Tensor } from '@hexedge/protocol';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tensorsDigestSync } from './node-crypto.ts';

/** A Float32Array that is a view into the middle of a bigger buffer (as a batch's split outputs are). */
const viewInto = (values: number[]) => {
  const whole = new Float32Array(values.length + 5).fill(7);
  const view = whole.subarray(2, 2 + values.length);
  view.set(values);
  return view;
};

const cases: Record<string, Tensor[]> = {
  'one FP32 tensor': [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: new Float32Array([1.5, -0, 3]) }],
  'FP32 given as numbers': [{ name: 'x', datatype: 'FP32', shape: [3], data: [0.1, Number.NaN, 1e39] }],
  'a view into a larger buffer': [
    { name: 'y', datatype: 'FP32', shape: [2, 2], data: viewInto([1, 2, 3, 4]) },
  ],
  'several tensors, unsorted, mixed datatypes': [
    { name: 'z', datatype: 'INT64', shape: [2], data: [-1, 2 ** 53 - 1] },
    { name: 'a', datatype: 'BYTES', shape: [2], data: ['héllo', ''] },
    { name: 'm', datatype: 'BOOL', shape: [3], data: [true, false, true] },
    { name: 'h', datatype: 'FP16', shape: [1], data: [65504] },
    { name: '__proto__', datatype: 'UINT8', shape: [0], data: new Uint8Array(0) },
  ],
  'no tensors': [],
  'empty shape (a scalar)': [{ name: 's', datatype: 'INT32', shape: [], data: new Int32Array([42]) }],
  // Past the joined buffer (64 KB): hashed part by part.
  'larger than the joined buffer': [
    {
      name: 'image',
      datatype: 'FP32',
      shape: [1, 3, 96, 96],
      data: new Float32Array(3 * 96 * 96).map((_, i) => i / 7),
    },
    { name: 'mask', datatype: 'UINT8', shape: [96, 96], data: new Uint8Array(96 * 96).fill(1) },
  ],
  // 50 header bytes and a newline, then the data: 65 536 bytes in all, and one more.
  'exactly the joined buffer': [
    { name: 'x', datatype: 'UINT8', shape: [65_486], data: new Uint8Array(65_486).fill(9) },
  ],
  'one byte past the joined buffer': [
    { name: 'x', datatype: 'UINT8', shape: [65_487], data: new Uint8Array(65_487).fill(9) },
  ],
};

describe('tensorsDigestSync (node:crypto: joined and hashed once, or part by part when large)', () => {
  for (const [name, tensors] of Object.entries(cases)) {
    it(`gives WebCrypto's tensorsDigest: ${name}`, async () => {
      if (name.includes('joined buffer'))
        expect(tensorsDigestInput(tensors).length).toBeGreaterThanOrEqual(65_536);
      const expected = await tensorsDigest(tensors);
      expect(tensorsDigestSync(tensors)).toBe(expected);
      // And the joined bytes are what both hash.
      expect(createHash('sha256').update(tensorsDigestInput(tensors)).digest('hex')).toBe(expected);
    });
  }

  it('tells apart tensors that differ only in name order, shape or one value', () => {
    const base = cases['several tensors, unsorted, mixed datatypes']!;
    const digest = tensorsDigestSync(base);
    expect(tensorsDigestSync([...base].reverse())).toBe(digest); // sorted by name first
    const reshaped = base.map((t) => (t.name === 'z' ? { ...t, shape: [2, 1] } : t));
    expect(tensorsDigestSync(reshaped)).not.toBe(digest);
    const changed = base.map((t) => (t.name === 'z' ? { ...t, data: [-1, 2 ** 53 - 2] } : t));
    expect(tensorsDigestSync(changed)).not.toBe(digest);
  });
});
