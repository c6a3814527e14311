import { describe, expect, it } from 'vitest';
import { greatCircleDistanceKm, toH3Cell, toLatLng } from './geo.ts';

describe('geo', () => {
  it('measures Paris–London on the 6371.0088 km sphere', () => {
    const d = greatCircleDistanceKm({ lat: 48.8566, lng: 2.3522 }, { lat: 51.5074, lng: -0.1278 });
    expect(d).toBeGreaterThan(343);
    expect(d).toBeLessThan(345);
  });
  it('names the bad coordinate', () => {
    expect(() => toLatLng({ lat: 91, lng: 0 })).toThrow('location.lat must be a number in [-90, 90], got 91');
    expect(() => toLatLng({ lat: 0, lng: Number.POSITIVE_INFINITY })).toThrow(/location.lng/);
  });
  it('validates H3 cells', () => {
    expect(toH3Cell('8928308280fffff')).toBe('8928308280fffff');
    expect(() => toH3Cell('zzz')).toThrow(expect.objectContaining({ code: 'INVALID_CELL' }));
  });
});
