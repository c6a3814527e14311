import { maxDistanceKmForRtt } from '@hexedge/coverage-oracle';
import { describe, expect, it } from 'vitest';
import { CITIES, delayMatrixMs, distanceKm, HOSTS, verifiedWithinKmFor } from './world.ts';

describe('the multi-host test’s emulated world', () => {
  it('is never faster than the oracle’s bound: every path’s round trip allows at least its true distance', () => {
    const delays = delayMatrixMs();
    for (const [i, a] of HOSTS.entries()) {
      for (const [j, b] of HOSTS.entries()) {
        if (i === j) continue;
        expect(delays[i]![j]).toBe(delays[j]![i]);
        const boundKm = maxDistanceKmForRtt({ rttMs: 2 * delays[i]![j]! });
        expect(boundKm, `${a.key} → ${b.key}`).toBeGreaterThanOrEqual(distanceKm(a.city, b.city));
      }
    }
  });

  it('puts the liar ≥ 1,000 km from its claim and every honest node within 80 km of another', () => {
    const liar = HOSTS.find((h) => h.role === 'liar')!;
    expect(distanceKm(liar.city, liar.claim!)).toBeGreaterThan(1000);
    const honest = HOSTS.filter((h) => h.role === 'node');
    expect(honest.length).toBeGreaterThanOrEqual(5);
    for (const n of honest)
      expect(Math.min(...honest.filter((o) => o !== n).map((o) => distanceKm(n.city, o.city)))).toBeLessThan(
        80,
      );
  });

  it('verifies within a radius that still tells the liar’s claim from where it runs', () => {
    const liar = HOSTS.find((h) => h.role === 'liar')!;
    expect(verifiedWithinKmFor()).toBe(450);
    expect(verifiedWithinKmFor()).toBeLessThan(distanceKm(liar.city, liar.claim!) / 2);
  });

  it('names hosts so that namespace and TAP names fit Linux’s 15 characters', () => {
    expect(new Set(HOSTS.map((h) => h.key)).size).toBe(HOSTS.length);
    for (const h of HOSTS) expect(h.key).toMatch(/^[a-z]{2,4}$/);
    for (const h of HOSTS) expect(CITIES[h.city]).toBeDefined();
  });
});
