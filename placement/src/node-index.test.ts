import { greatCircleDistanceKm, HexEdgeError } from '@hexedge/protocol';
import fc from 'fast-check';
import { cellToLatLng, getPentagons } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { NodeIndex, type IndexedPoint, type Neighbour } from './node-index.ts';

interface Point extends IndexedPoint {
  tag: number;
}

/** The reference: scan everything, sort by (distanceKm, id). Written here, independent of the index. */
function bruteForce(
  points: Map<string, Point>,
  query: { lat: number; lng: number; k: number; maxDistanceKm?: number; filter?: (p: Point) => boolean },
): Neighbour[] {
  const all: Neighbour[] = [];
  for (const p of points.values()) {
    if (query.filter && !query.filter(p)) continue;
    const distanceKm = greatCircleDistanceKm(query, p);
    if (distanceKm <= (query.maxDistanceKm ?? Infinity)) all.push({ id: p.id, distanceKm });
  }
  all.sort((a, b) => (a.distanceKm !== b.distanceKm ? a.distanceKm - b.distanceKm : a.id < b.id ? -1 : 1));
  return all.slice(0, query.k);
}

const clampLat = (lat: number) => Math.max(-90, Math.min(90, lat));
/** Wraps into [-180, 180] the way a caller would, keeping both ±180 reachable. */
const wrapLng = (lng: number) => (lng > 180 ? lng - 360 : lng < -180 ? lng + 360 : lng);

const PENTAGON_CENTERS = Array.from({ length: 16 }, (_, res) => getPentagons(res))
  .flat()
  .map((cell) => cellToLatLng(cell));

/** Offsets from tiny (same res-15 cell) to a few hundred km, so clusters straddle cells at every res. */
const jitterDeg = fc.oneof(
  fc.constant(0),
  fc.double({ min: -1e-6, max: 1e-6, noNaN: true }),
  fc.double({ min: -0.01, max: 0.01, noNaN: true }),
  fc.double({ min: -3, max: 3, noNaN: true }),
);
const around = (lat: number, lng: number) =>
  fc.tuple(jitterDeg, jitterDeg).map(([dLat, dLng]) => ({ lat: clampLat(lat + dLat), lng: wrapLng(lng + dLng) }));

/** Uniform on the sphere, plus the places a grid index gets wrong. */
const location = fc.oneof(
  fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -180, max: 180, noNaN: true })).map(([z, lng]) => ({
    lat: (Math.asin(z) * 180) / Math.PI,
    lng,
  })),
  fc.tuple(fc.constantFrom(90, -90), fc.double({ min: -180, max: 180, noNaN: true })).chain(([lat, lng]) => around(lat, lng)),
  fc.tuple(fc.double({ min: -80, max: 80, noNaN: true }), fc.constantFrom(180, -180)).chain(([lat, lng]) => around(lat, lng)),
  fc.constantFrom(...PENTAGON_CENTERS).chain(([lat, lng]) => around(lat, lng)),
  fc.constantFrom({ lat: 52.37, lng: 4.9 }, { lat: 35.68, lng: 139.69 }).chain(({ lat, lng }) => around(lat, lng)),
);

/** Ids from a small pool so upserts collide (moves) and ties are broken among few names. */
const id = fc.integer({ min: 0, max: 60 }).map((n) => `n${n}`);

const query = fc.record({
  at: location,
  k: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 200 })),
  maxDistanceKm: fc.option(fc.oneof(fc.double({ min: 0, max: 25_000, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true })), {
    nil: undefined,
  }),
  /** Keep-one-in-n filters: n = 1 keeps all, 13 rejects most. */
  keepOneIn: fc.option(fc.constantFrom(2, 5, 13), { nil: undefined }),
});

const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('upsert' as const), id, at: location, tag: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), id }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('query' as const), query }) },
);

/** Runs ops against the index and a plain Map, checking every query (and a final sweep) against brute force. */
type Op = typeof op extends fc.Arbitrary<infer O> ? O : never;
type Query = typeof query extends fc.Arbitrary<infer Q> ? Q : never;

function check(ops: Op[], leafCapacity: number) {
  const index = new NodeIndex<Point>({ leafCapacity });
  const model = new Map<string, Point>();
  const run = (q: Query) => {
    const filter = q.keepOneIn ? (p: Point) => p.tag % q.keepOneIn! === 0 : undefined;
    const request = { ...q.at, k: q.k, ...(q.maxDistanceKm !== undefined ? { maxDistanceKm: q.maxDistanceKm } : {}), ...(filter ? { filter } : {}) };
    expect(index.nearest(request)).toEqual(bruteForce(model, request));
  };
  for (const o of ops) {
    if (o.kind === 'upsert') {
      const p = { id: o.id, ...o.at, tag: o.tag };
      index.upsert(p);
      model.set(o.id, p);
    } else if (o.kind === 'remove') {
      expect(index.remove(o.id)).toBe(model.delete(o.id));
    } else {
      run(o.query);
    }
    expect(index.size).toBe(model.size);
  }
  for (const p of model.values()) expect(index.get(p.id)).toBe(p);
  // k past the count, from the far side of the globe: every point, in brute-force order.
  for (const at of [...model.values()].slice(0, 3)) {
    run({ at: { lat: -at.lat, lng: wrapLng(at.lng + 180) }, k: model.size + 10, maxDistanceKm: undefined, keepOneIn: undefined });
  }
}

describe('NodeIndex matches a brute-force scan exactly', () => {
  it('over random and adversarial placements with moves, removes, filters and radius limits (deep tree)', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 200 }), (ops) => check(ops, 2)), { numRuns: 400 });
  });

  it('with the default leaf capacity', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 200 }), (ops) => check(ops, 32)), { numRuns: 150 });
  });

  it('across a desert: points on one continent, queries from the other side of the globe', () => {
    const europe = fc.record({ lat: fc.double({ min: 36, max: 60, noNaN: true }), lng: fc.double({ min: -9, max: 30, noNaN: true }) });
    const antipodes = fc.record({ lat: fc.double({ min: -60, max: -36, noNaN: true }), lng: fc.double({ min: 150, max: 180, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(europe, { minLength: 1, maxLength: 300 }), fc.array(antipodes, { minLength: 1, maxLength: 10 }), (homes, queries) => {
        const index = new NodeIndex<Point>({ leafCapacity: 4 });
        const model = new Map<string, Point>();
        homes.forEach((at, i) => {
          const p = { id: `e${i}`, ...at, tag: i };
          index.upsert(p);
          model.set(p.id, p);
        });
        for (const at of queries) {
          for (const request of [{ ...at, k: 5 }, { ...at, k: 3, filter: (p: Point) => p.tag % 17 === 0 }, { ...at, k: 2, maxDistanceKm: 15_000 }]) {
            expect(index.nearest(request)).toEqual(bruteForce(model, request));
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('breaks ties among duplicates at identical coordinates by id', () => {
    const index = new NodeIndex<Point>({ leafCapacity: 2 });
    const model = new Map<string, Point>();
    for (const name of ['d', 'b', 'e', 'a', 'c', 'aa', 'B']) {
      const p = { id: name, lat: 10, lng: 20, tag: 0 };
      index.upsert(p);
      model.set(name, p);
    }
    const request = { lat: 10.5, lng: 20, k: 4 };
    expect(index.nearest(request)).toEqual(bruteForce(model, request));
    expect(index.nearest(request).map((n) => n.id)).toEqual(['B', 'a', 'aa', 'b']);
  });

  it('survives many moves of a large set and stays exact (splits and merges under churn)', () => {
    const index = new NodeIndex<Point>({ leafCapacity: 8 });
    const model = new Map<string, Point>();
    const rand = mulberry32(7);
    const randomPoint = (i: number): Point => ({ id: `p${i}`, lat: 40 + rand() * 10, lng: -5 + rand() * 15, tag: i });
    for (let i = 0; i < 3000; i++) {
      const p = randomPoint(i);
      index.upsert(p);
      model.set(p.id, p);
    }
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3000; i += 1 + round) {
        const kept = model.get(`p${i}`);
        const p = round === 2 && kept ? { ...kept, tag: -1 } : randomPoint(i);
        index.upsert(p);
        model.set(p.id, p);
      }
      for (let i = round; i < 3000; i += 7) expect(index.remove(`p${i}`)).toBe(model.delete(`p${i}`));
      for (let q = 0; q < 50; q++) {
        const request = { lat: 38 + rand() * 14, lng: -8 + rand() * 21, k: 1 + (q % 9) };
        expect(index.nearest(request)).toEqual(bruteForce(model, request));
      }
    }
  });

  it('re-upserting at the same coordinates only replaces the record', () => {
    const index = new NodeIndex<Point>();
    index.upsert({ id: 'x', lat: 1, lng: 2, tag: 1 });
    const replacement = { id: 'x', lat: 1, lng: 2, tag: 2 };
    index.upsert(replacement);
    expect(index.get('x')).toBe(replacement);
    expect(index.size).toBe(1);
    expect(index.nearest({ lat: 1, lng: 2, k: 1, filter: (p) => p.tag === 2 })).toEqual([{ id: 'x', distanceKm: 0 }]);
  });

  it('moves a record that was mutated in place and upserted again', () => {
    const index = new NodeIndex<Point>();
    const p = { id: 'x', lat: 1, lng: 2, tag: 1 };
    index.upsert(p);
    index.upsert({ id: 'y', lat: 1, lng: 3, tag: 1 });
    p.lat = -60;
    index.upsert(p);
    expect(index.nearest({ lat: -60, lng: 2, k: 1 })).toEqual([{ id: 'x', distanceKm: 0 }]);
  });

  it('answers a query issued from inside another query\'s filter', () => {
    const index = new NodeIndex<Point>();
    const model = new Map<string, Point>();
    for (let i = 0; i < 50; i++) {
      const p = { id: `p${i}`, lat: i, lng: i * 2, tag: i };
      index.upsert(p);
      model.set(p.id, p);
    }
    const inner = { lat: 10, lng: 10, k: 3 };
    const outer = {
      lat: 0,
      lng: 0,
      k: 4,
      filter: (p: Point) => index.nearest(inner).some((n) => n.id === p.id) || p.tag % 2 === 0,
    };
    expect(index.nearest(outer)).toEqual(bruteForce(model, outer));
  });

  it('rejects bad input without applying it', () => {
    const index = new NodeIndex<Point>();
    index.upsert({ id: 'x', lat: 1, lng: 2, tag: 1 });
    expect(() => index.upsert({ id: 'x', lat: 91, lng: 2, tag: 1 })).toThrow(HexEdgeError);
    expect(index.get('x')!.lat).toBe(1);
    expect(() => index.nearest({ lat: Number.NaN, lng: 0, k: 1 })).toThrow(HexEdgeError);
    expect(() => index.nearest({ lat: 0, lng: 0, k: 1.5 })).toThrow(HexEdgeError);
    expect(index.nearest({ lat: 0, lng: 0, k: 0 })).toEqual([]);
    expect(index.nearest({ lat: 0, lng: 0, k: Infinity })).toHaveLength(1);
  });
});

/** Small seeded PRNG so the churn test is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
