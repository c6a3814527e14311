import { describe, expect, it } from 'vitest';
import { buildMerkleLevels, proofFromHashes, proofFromLevels, proofPositions } from './merkle.ts';

describe('proof positions (a kept tree read by position)', () => {
  it('gives the proof proofFromLevels gives, for every leaf of trees of 1 to 70 leaves', async () => {
    for (let leafCount = 1; leafCount <= 70; leafCount++) {
      const leaves = Array.from({ length: leafCount }, (_, i) => new TextEncoder().encode(`leaf-${i}`));
      const levels = await buildMerkleLevels(leaves);
      for (let leafIndex = 0; leafIndex < leafCount; leafIndex++) {
        const positions = proofPositions({ leafCount, leafIndex });
        const hashes = positions.map(({ level, index }) => levels[level]![index]!);
        expect(proofFromHashes({ leafIndex, positions, hashes })).toEqual(proofFromLevels(levels, leafIndex));
      }
    }
  });
});
