import { greatCircleDistanceKm, type LatLng, type NodeModel } from '@hexedge/protocol';
import { describe, expect, it, vi } from 'vitest';
import { adoptedRecord } from '../test/node-records.ts';
import { contentId, T0 } from '../test/signed-messages.ts';
import type { NodeRecord } from './node-record.ts';
import { MemoryNodeStore } from './node-store.ts';
import { CANDIDATE_POOL_SIZE, MAX_ELIGIBILITY_CHECKS, Placement } from './placement.ts';
import { seededRandom } from './random.ts';
import { TRUST_FLOOR } from './trust.ts';

/** A well-formed node id (base64url, 43 characters) for number `n`. */
const idOf = (n: number) => n.toString(36).padStart(42, 'A') + 'A';

const COMMON: NodeModel = { name: 'common', version: '1', contentId: contentId('a'), ready: true };

function record(id: string, at: LatLng, o: { verified: boolean }): NodeRecord {
  return adoptedRecord({ id, at, atMs: T0, models: [COMMON], locationVerified: o.verified });
}

/** A placement restored with `nodes` (the store path: no signature work for thousands of nodes). */
function restored(nodes: NodeRecord[], options: { maxEligibilityChecks?: number } = {}): Placement {
  const store = new MemoryNodeStore();
  for (const n of nodes) store.nodes.set(n.id, n);
  return new Placement({
    heartbeatIntervalMs: 10_000,
    now: () => T0,
    store,
    random: seededRandom(7),
    ...options,
  });
}

const GERMANY = { lat: 50.1, lng: 8.7 };
const ICELAND = (i: number) => ({ lat: 64.1 + i / 100, lng: -21.9 + i / 100 });

describe('placement under restrictive policies: work per request is bounded', () => {
  // 20 000 verified nodes on the continent all hold the popular model; 3 more sit in Iceland.
  const random = seededRandom(3);
  // Nodes 10 and 20 sit next to the caller (in Frankfurt); the rest anywhere from France to Poland.
  const continent = Array.from({ length: 20_000 }, (_, i) =>
    record(
      idOf(i),
      i === 10 || i === 20
        ? { lat: 50.11 + i / 1000, lng: 8.68 }
        : { lat: 46 + random() * 8, lng: 2 + random() * 16 },
      { verified: true },
    ),
  );
  const iceland = [0, 1, 2].map((i) => record(idOf(900_000 + i), ICELAND(i), { verified: true }));
  const placement = restored([...continent, ...iceland]);

  it('a region few nodes are in looks at those nodes, not at every holder of the model', () => {
    const looked = vi.spyOn(placement.registry, 'statusOf');
    const found = placement.candidatePool({
      location: GERMANY,
      model: 'common',
      k: 3,
      policy: { region: 'IS' },
    });
    expect(found.map((c) => c.node.id).sort()).toEqual(iceland.map((n) => n.id).sort());
    // Before: the nearest search from Germany walked all 20 003 holders to reach Iceland.
    expect(looked.mock.calls.length).toBeLessThanOrEqual(3);
    looked.mockRestore();
  });

  it(`a trust minimum almost no node meets checks at most ${MAX_ELIGIBILITY_CHECKS} nodes, and what it returns meets it`, () => {
    // Every node on probation (no oracle score) but two near the caller and two in Iceland.
    const trusted = [idOf(10), idOf(20), idOf(900_000), idOf(900_001)];
    for (const id of trusted) placement.setTrust(id, 0.95);
    const looked = vi.spyOn(placement.registry, 'statusOf');
    const found = placement.candidatePool({
      location: GERMANY,
      model: 'common',
      k: 3,
      policy: { minTrust: 0.9 },
    });
    // Before: every one of the 20 003 holders.
    expect(looked.mock.calls.length).toBeLessThanOrEqual(MAX_ELIGIBILITY_CHECKS);
    // The two near the caller are found; the two in Iceland lie past the nodes the budget lets it check.
    expect(found.map((c) => c.node.id)).toEqual([idOf(10), idOf(20)]);
    looked.mockRestore();
  });

  it('free identities crowding the caller cannot make a request fail that a full search answers', () => {
    // The attack: more probation sybils than the budget, all nearer the caller than any node that meets
    // the policy. A bounded search alone would find nothing and refuse the request.
    const crowd = Array.from({ length: 40 }, (_, i) =>
      record(idOf(500_000 + i), { lat: 50.11 + i / 10_000, lng: 8.68 }, { verified: true }),
    );
    const far = record(idOf(600_000), { lat: 52.5, lng: 13.4 }, { verified: true });
    const small = restored([...crowd, far], { maxEligibilityChecks: 8 });
    small.setTrust(far.id, 0.95);
    const looked = vi.spyOn(small.registry, 'statusOf');
    const found = small.candidatePool({
      location: GERMANY,
      model: 'common',
      k: 3,
      policy: { minTrust: 0.9 },
    });
    expect(found.map((c) => c.node.id)).toEqual([far.id]);
    // The full search ran only because the bounded one found nothing (its 8 checks, then all 41).
    expect(looked.mock.calls.length).toBeLessThanOrEqual(8 + 41);
    looked.mockRestore();
  });

  it('a region’s nodes are checked nearest first within the budget too', () => {
    const small = restored([...continent.slice(0, 2_000), ...iceland], { maxEligibilityChecks: 2 });
    const looked = vi.spyOn(small.registry, 'statusOf');
    const found = small.candidatePool({ location: GERMANY, model: 'common', k: 3, policy: { region: 'IS' } });
    const byDistance = [...iceland].sort(
      (x, y) => greatCircleDistanceKm(GERMANY, x.location) - greatCircleDistanceKm(GERMANY, y.location),
    );
    expect(found.map((c) => c.node.id)).toEqual(byDistance.slice(0, 2).map((n) => n.id));
    expect(looked).toHaveBeenCalledTimes(2);
  });
});

describe('placement under restrictive policies: the same answer where the budget is not reached', () => {
  /** The pool by definition: every eligible node, nearest first (ties by id), the first max(k, 16). */
  function reference(o: {
    nodes: NodeRecord[];
    placement: Placement;
    at: LatLng;
    k: number;
    regionId?: string;
    minTrust?: number;
    trust: Map<string, number>;
  }): string[] {
    const eligible = o.nodes.filter((n) => {
      const score = o.trust.get(n.id);
      if (score !== undefined && score < TRUST_FLOOR) return false;
      if ((o.regionId !== undefined || o.minTrust !== undefined) && !n.locationVerified) return false;
      if (o.regionId !== undefined && !o.placement.registry.get(n.id)!.regions.includes(o.regionId))
        return false;
      return o.minTrust === undefined || (score !== undefined && score >= o.minTrust);
    });
    return eligible
      .map((n) => ({ id: n.id, km: greatCircleDistanceKm(o.at, n.location) }))
      .sort((a, b) => a.km - b.km || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, Math.max(o.k, CANDIDATE_POOL_SIZE))
      .map((n) => n.id);
  }

  it('answers 300 random small-fleet queries as the definition does (regions, trust minimums, both, none)', () => {
    const random = seededRandom(11);
    const regions = [undefined, 'DE', 'FR', 'EU', 'IS', '150', 'US'];
    let answered = 0;
    for (let round = 0; round < 30; round++) {
      const size = 20 + Math.floor(random() * 280);
      const nodes = Array.from({ length: size }, (_, i) =>
        record(
          idOf(round * 1000 + i),
          random() < 0.1 ? ICELAND(i) : { lat: 43 + random() * 12, lng: -4 + random() * 20 },
          { verified: random() < 0.7 },
        ),
      );
      const placement = restored(nodes);
      const trust = new Map<string, number>();
      for (const n of nodes)
        if (random() < 0.5) {
          const score = Math.round(random() * 100) / 100;
          trust.set(n.id, score);
          placement.setTrust(n.id, score);
        }
      for (let q = 0; q < 10; q++) {
        const at = { lat: 40 + random() * 25, lng: -25 + random() * 45 };
        const k = 1 + Math.floor(random() * 20);
        const regionId = regions[Math.floor(random() * regions.length)];
        const minTrust = random() < 0.5 ? Math.round(random() * 100) / 100 : undefined;
        const policy = {
          ...(regionId !== undefined ? { region: regionId } : {}),
          ...(minTrust !== undefined ? { minTrust } : {}),
        };
        const got = placement.candidatePool(
          { location: at, model: 'common', k, policy },
          { recordDemand: false },
        );
        if (got.length > 0) answered++;
        expect(
          got.map((c) => c.node.id),
          JSON.stringify({ round, q, k, policy }),
        ).toEqual(
          reference({
            nodes,
            placement,
            at,
            k,
            trust,
            ...(regionId ? { regionId } : {}),
            ...(minTrust !== undefined ? { minTrust } : {}),
          }),
        );
      }
    }
    // Most queries have an answer to compare (an empty one on both sides proves little).
    expect(answered).toBeGreaterThan(150);
  });
});
