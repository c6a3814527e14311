import { describe, expect, it } from 'vitest';
import type { NodeRecord } from './node-record.ts';
import { seededRandom } from './random.ts';
import { scoreCandidates, type ScoredCandidate } from './scoring.ts';
import { orderFailover } from './selection.ts';
import { PROBATION_TRAFFIC_SHARE } from './trust.ts';

function candidate(id: string, o: { latencyMs: number; price?: number; trust?: number; probation?: boolean; distanceKm?: number }) {
  return {
    node: { id, pricePerRequest: o.price ?? 0 } as NodeRecord,
    distanceKm: o.distanceKm ?? 1,
    model: { name: 'm', version: '1', contentId: 'a'.repeat(64), ready: true },
    predictedLatencyMs: o.latencyMs,
    trust: o.trust ?? 0.9,
    probation: o.probation ?? false,
  };
}

const firstCounts = (make: () => ScoredCandidate[], runs: number, seed: number) => {
  const random = seededRandom(seed);
  const counts = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    const id = orderFailover(make(), { k: 3, random })[0]!.node.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
};

describe('scoreCandidates', () => {
  it('scores latency relative to the fastest, price relative to the mean, and trust', () => {
    const [a, b] = scoreCandidates([candidate('a', { latencyMs: 50, price: 1 }), candidate('b', { latencyMs: 55, price: 3 })], 'balanced');
    expect(a!.score).toBeCloseTo(0.5 * 0.1, 9);
    expect(b!.score).toBeCloseTo(0.1 + 2 / 2 + 0.5 * 0.1, 9);
  });

  it('lets prefer=price pick a slower, cheaper node and prefer=latency the fast one', () => {
    const make = () => [candidate('fast', { latencyMs: 30, price: 10 }), candidate('cheap', { latencyMs: 45, price: 1 })];
    const best = (prefer: 'latency' | 'price') => scoreCandidates(make(), prefer).sort((x, y) => x.score - y.score)[0]!.node.id;
    expect(best('latency')).toBe('fast');
    expect(best('price')).toBe('cheap');
  });
});

describe('orderFailover', () => {
  it('spreads first place over near-equal nodes with power-of-two-choices (seeded)', () => {
    const make = () =>
      scoreCandidates(['a', 'b', 'c', 'd'].map((id, i) => candidate(id, { latencyMs: 40 + i })), 'latency');
    const counts = firstCounts(make, 4000, 42);
    // P2C over 4: the i-th best wins when it is drawn with a worse one: shares 3/6, 2/6, 1/6, 0.
    expect(counts.get('a')! / 4000).toBeCloseTo(0.5, 1);
    expect(counts.get('b')! / 4000).toBeCloseTo(2 / 6, 1);
    expect(counts.get('c')! / 4000).toBeCloseTo(1 / 6, 1);
    expect(counts.get('d')).toBeUndefined();
  });

  it('never picks a clearly worse node first, but keeps it as a fall-back', () => {
    const make = () => scoreCandidates([candidate('near', { latencyMs: 30 }), candidate('far', { latencyMs: 60 })], 'latency');
    expect(firstCounts(make, 500, 1).get('near')).toBe(500);
    expect(orderFailover(make(), { k: 3, random: seededRandom(1) }).map((c) => c.node.id)).toEqual(['near', 'far']);
  });

  it('caps the share of first places a node on probation takes from a scored one', () => {
    const make = () =>
      scoreCandidates([candidate('new', { latencyMs: 20, trust: 0.5, probation: true }), candidate('old', { latencyMs: 60, trust: 0.9 })], 'latency');
    const share = (firstCounts(make, 5000, 7).get('new') ?? 0) / 5000;
    expect(share).toBeGreaterThan(PROBATION_TRAFFIC_SHARE * 0.7);
    expect(share).toBeLessThan(PROBATION_TRAFFIC_SHARE * 1.3);
    // Demoted, not dropped: it stays right behind.
    const list = orderFailover(make(), { k: 2, random: () => 0.99 });
    expect(list.map((c) => c.node.id)).toEqual(['old', 'new']);
  });

  it('leaves a probation node first when no scored node could take its place', () => {
    const make = () => scoreCandidates([candidate('new', { latencyMs: 20, probation: true }), candidate('new2', { latencyMs: 80, probation: true })], 'latency');
    expect(firstCounts(make, 200, 3).get('new')).toBe(200);
  });

  it('cuts the list at k', () => {
    const list = orderFailover(scoreCandidates(['a', 'b', 'c', 'd'].map((id, i) => candidate(id, { latencyMs: 10 * (i + 1) })), 'latency'), {
      k: 2,
      random: seededRandom(5),
    });
    expect(list).toHaveLength(2);
  });
});
