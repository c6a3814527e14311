import { describe, expect, it } from 'vitest';
import { canonicalBytes } from './canonical.ts';
import { tensorToBytes } from './tensor-bytes.ts';
import { tensorsDigestInput } from './tensor-digest.ts';
import type { Tensor } from './tensors.ts';

/** The digest input by its definition, nothing cached: sorted by name, canonical header, newline, each tensor's bytes. */
function digestInputByDefinition(tensors: readonly Tensor[]): Uint8Array {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header = canonicalBytes(sorted.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })));
  return Buffer.concat([header, Buffer.from('\n'), ...sorted.map(tensorToBytes)]);
}

/* A header is cached per list of names, datatypes and shapes: the bytes must stay the definition's, whatever the names and shapes. */
describe('tensorsDigestInput with cached headers', () => {
  it('gives the definition’s bytes, on first sight and from the cache', () => {
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
      // Keys that a naive cache key could confuse: a separator in the name, a shape that is not
      // integers, a name that is not a string (such tensors are refused before digesting; the cache
      // must still not hand out another tensor's header).
      [{ name: '\u0000x', datatype: 'FP32', shape: [1], data: [1] }],
      [{ name: 'y', datatype: 'FP32', shape: [null] as unknown as number[], data: [] }],
      [{ name: 'y', datatype: 'FP32', shape: [], data: [] }],
      [{ name: 1 as unknown as string, datatype: 'FP32', shape: [1], data: [1] }],
      [{ name: '1', datatype: 'FP32', shape: [1], data: [1] }],
      // Several tensors are cached per list: names that would spell another list's key, or a lone
      // tensor's, if names were not quoted and lists not marked.
      [
        { name: 'label', datatype: 'INT64', shape: [1], data: [2] },
        { name: 'scores', datatype: 'FP32', shape: [1, 3], data: [0.1, 0.2, 0.7] },
      ],
      [{ name: '"label"\u0001INT64\u00001\u0000"scores"', datatype: 'INT64', shape: [1], data: [2] }],
      [
        { name: 'label"\u0001INT64', datatype: 'INT64', shape: [1], data: [2] },
        { name: 'scores', datatype: 'FP32', shape: [1, 3], data: [0.1, 0.2, 0.7] },
      ],
      [
        { name: 'label', datatype: 'INT64', shape: [1], data: [2] },
        { name: 'scores', datatype: 'FP32', shape: [3, 1], data: [0.1, 0.2, 0.7] },
      ],
      [
        { name: 'x', datatype: 'FP32', shape: [1], data: [1] },
        { name: 'x', datatype: 'FP64', shape: [1], data: [1] },
      ],
    ];
    for (let round = 0; round < 2; round++)
      for (const tensors of cases)
        expect(Buffer.from(tensorsDigestInput(tensors)).toString('hex')).toBe(
          Buffer.from(digestInputByDefinition(tensors)).toString('hex'),
        );
  });
});
