import { describe, expect, it } from 'vitest';
import { cellToCenterChild, cellToChildren, latLngToCell } from 'h3-js';
import { computeHexDensityScales } from './hex-density.ts';

describe('computeHexDensityScales (HIP-17)', () => {
  it('a lone hotspot scales 1.0', () => {
    const cell = latLngToCell(52.0, 5.0, 12);
    expect(computeHexDensityScales([cell]).get(cell)).toBe(1);
  });

  it('two hotspots in one res-8 hex get 0.5 each (res-8 target and max are 1)', () => {
    const res9 = cellToChildren(latLngToCell(52.0, 5.0, 8), 9);
    const a = cellToCenterChild(res9[0]!, 12);
    const b = cellToCenterChild(res9[1]!, 12);
    const scales = computeHexDensityScales([a, b]);
    expect(scales.get(a)).toBe(0.5);
    expect(scales.get(b)).toBe(0.5);
  });

  it("matches Helium's reference map (hex_density.rs simple_scale_check)", () => {
    const ids = [
      631210990515536895n, 631210990515536895n, 631210990515536895n, 631210990515537919n, 631210990515537919n,
      631210990515537919n, 631210990515538431n, 631210990515564031n, 631210990515589631n, 631210990515600383n,
      631210990515601919n, 631210990515606527n, 631210990515722239n, 631210990515722239n, 631210990515727359n,
      631210990515728895n, 631210990515739647n, 631210990515874303n, 631210990515924479n, 631210990516363775n,
      631210990515987455n, 631210990516590079n, 631210990516612607n, 631210990516613631n, 631210990516640767n,
      631210990516876799n, 631210990516885503n, 631210990516888063n, 631210990516907007n, 631210990516912639n,
      631210990516955647n, 631210990516996607n, 631210990517011455n, 631210990517016575n, 631210990517144063n,
      631210990517264895n,
    ];
    const hex = (id: bigint) => id.toString(16);
    const scales = computeHexDensityScales(ids.map(hex));
    const expected: Array<[bigint, number]> = [
      [631210990515537919n, 0.006], [631210990516955647n, 0.0417], [631210990516885503n, 0.0139],
      [631210990516363775n, 0.1667], [631210990515739647n, 0.0083], [631210990517144063n, 0.0833],
      [631210990515722239n, 0.0083], [631210990515564031n, 0.0417], [631210990515536895n, 0.006],
    ];
    for (const [id, scale] of expected) expect([hex(id), scales.get(hex(id))]).toEqual([hex(id), scale]);
  });
});
