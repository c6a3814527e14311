import { describe, expect, it } from 'vitest';
import { fitView, latLngToWorld, resolutionForView, worldToLatLng, zoomAt } from './projection.ts';

describe('map projection', () => {
  it('round-trips a point through Web Mercator', () => {
    const p = worldToLatLng(latLngToWorld({ lat: 50.1109, lng: 8.6821 }));
    expect(p.lat).toBeCloseTo(50.1109, 6);
    expect(p.lng).toBeCloseTo(8.6821, 6);
  });

  it('picks finer hexes as the view zooms in, within the allowed range', () => {
    const view = fitView({ points: [{ lat: 52.37, lng: 4.9 }, { lat: 48.86, lng: 2.35 }], width: 800, height: 500 });
    const res = resolutionForView({ view, centerLat: 50, maxRes: 9 });
    const closer = resolutionForView({ view: zoomAt(view, { factor: 8, px: 400, py: 250, minScale: 0, maxScale: 1e9 }), centerLat: 50, maxRes: 9 });
    expect(closer).toBeGreaterThan(res);
    expect(resolutionForView({ view: { ...view, scale: view.scale * 1e6 }, centerLat: 50, maxRes: 9 })).toBe(9);
  });
});
