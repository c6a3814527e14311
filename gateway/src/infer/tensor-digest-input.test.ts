import { tensorsDigestInput, type Tensor } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { tensorsDigestInputOf } from './tensor-digest-input.ts';

/* The cached-header digest input must be protocol's, byte for byte, whatever the names and shapes. */
describe('tensorsDigestInputOf', () => {
  it('gives tensorsDigestInput’s bytes, on first sight and from the cache', () => {
    const cases: Tensor[][] = [
      [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: new Float32Array([19, 30, 450]) }],
      [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [-0, Number.MAX_VALUE, 1e-45] }],
      [{ name: 'readings', datatype: 'FP32', shape: [3, 1], data: [1, 2, 3] }],
      [{ name: 'readings', datatype: 'FP64', shape: [1, 3], data: [1, 2, 3] }],
      [{ name: 'readings', datatype: 'FP32', shape: [13], data: Array(13).fill(0.5) }],
      [{ name: 'readings', datatype: 'FP32', shape: [1, 3, 0], data: [] }],
      [{ name: '__proto__', datatype: 'INT8', shape: [2], data: [-128, 127] }],
      [{ name: 'é"\\\u0000\u2028😀', datatype: 'BOOL', shape: [2], data: [true, false] }],
      [{ name: 'a\u0000FP32\u00001', datatype: 'FP32', shape: [1], data: [1] }],
      [{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }],
      [{ name: 'text', datatype: 'BYTES', shape: [2], data: ['x', 'yz'] }],
      [{ name: 'wide', datatype: 'INT64', shape: [2], data: [-(2 ** 53) + 1, 2 ** 53 - 1] }],
      [
        { name: 'b', datatype: 'FP32', shape: [1], data: [2] },
        { name: 'a', datatype: 'FP32', shape: [1], data: [1] },
      ],
      [],
    ];
    for (let round = 0; round < 2; round++)
      for (const tensors of cases)
        expect(Buffer.from(tensorsDigestInputOf(tensors)).toString('hex')).toBe(
          Buffer.from(tensorsDigestInput(tensors)).toString('hex'),
        );
  });
});
