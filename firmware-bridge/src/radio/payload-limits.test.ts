import { describe, expect, it } from 'vitest';
import { getMaxPayloadBytes } from './payload-limits.ts';

describe('maximum application payload (RP002)', () => {
  it.each([
    ['eu868', 0, 51], ['eu868', 2, 51], ['eu868', 3, 115], ['eu868', 4, 242], ['eu868', 7, 242],
    ['us915_0', 0, 11], ['us915_1', 1, 53], ['us915', 2, 125], ['us915_7', 3, 242], ['us915_0', 4, 242],
  ])('%s DR%i: %i bytes', (regionConfigId, dr, bytes) => {
    expect(getMaxPayloadBytes({ regionConfigId, dr }).maxPayloadBytes).toBe(bytes);
  });

  it('falls back to the smallest limit for an unknown region or DR, saying why', () => {
    expect(getMaxPayloadBytes({ regionConfigId: 'mars1', dr: 0 })).toEqual({ maxPayloadBytes: 11, basis: "unknown region 'mars1'; using the smallest limit of any region" });
    expect(getMaxPayloadBytes({ regionConfigId: 'us915_0', dr: 8 }).basis).toBe('DR8 is not an uplink DR of us915; using the smallest limit of any region');
  });
});
