import { describe, expect, it } from 'vitest';
import { rankCandidatePool, type PoolEntry } from './candidate-pool.ts';
import type { NodeRecord } from './node-record.ts';
import { checkPolicy } from './query.ts';
import { seededRandom } from './random.ts';

/** A pool entry 1 km away: 10 ms of network and `nodeMs` at the node. */
function entry(id: string, o: { nodeMs: number; networkMs?: number }): PoolEntry {
  const runMs = (o.networkMs ?? 10) + o.nodeMs;
  return {
    node: { id, pricePerRequest: 0 } as NodeRecord,
    distanceKm: 1,
    model: { name: 'm', version: '1', contentId: 'a'.repeat(64), ready: true },
    runMs,
    predictedLatencyMs: runMs,
    trust: 0.9,
    probation: false,
    errorRate: 0,
    offAccelerator: false,
  };
}

/** How often each node comes first over `runs` rankings of the same pool with the same in-flight counts. */
function firsts(make: () => PoolEntry[], inFlight: Map<string, number> | undefined, runs = 2000) {
  const random = seededRandom(7);
  const counts = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    const [first] = rankCandidatePool(make(), {
      k: 3,
      policy: checkPolicy(undefined),
      random,
      ...(inFlight ? { inFlight } : {}),
    });
    counts.set(first!.node.id, (counts.get(first!.node.id) ?? 0) + 1);
  }
  return counts;
}

describe('rankCandidatePool with the caller’s forwards in flight', () => {
  const twins = () => [entry('a', { nodeMs: 10 }), entry('b', { nodeMs: 10 })];

  it('sends the next request to the twin the caller has fewer requests at', () => {
    expect(firsts(twins, new Map([['a', 3]])).get('b')).toBe(2000);
    expect(
      firsts(
        twins,
        new Map([
          ['a', 3],
          ['b', 4],
        ]),
      ).get('a'),
    ).toBe(2000);
  });

  it('ranks as without counts when the caller has nothing outstanding, or the same at each', () => {
    const unloaded = firsts(twins, undefined);
    expect(firsts(twins, new Map())).toEqual(unloaded);
    expect(
      firsts(
        twins,
        new Map([
          ['a', 2],
          ['b', 2],
        ]),
      ),
    ).toEqual(unloaded);
  });

  it('keeps a closed loop of callers balanced over twins (each request placed with the others outstanding)', () => {
    const inFlight = new Map<string, number>();
    const random = seededRandom(3);
    for (let i = 0; i < 32; i++) {
      const [first] = rankCandidatePool(twins(), { k: 3, policy: checkPolicy(undefined), random, inFlight });
      inFlight.set(first!.node.id, (inFlight.get(first!.node.id) ?? 0) + 1);
    }
    expect(inFlight).toEqual(
      new Map([
        ['a', 16],
        ['b', 16],
      ]),
    );
  });

  it('never moves first place past the near-best: a clearly slower node stays a fall-back however busy the best is', () => {
    // near: 10 ms network + 10 ms node; far: 40 ms network + 10 ms node (2.5× slower, far past P2C_MARGIN).
    const pool = () => [entry('near', { nodeMs: 10 }), entry('far', { nodeMs: 10, networkMs: 40 })];
    expect(firsts(pool, new Map([['near', 50]])).get('near')).toBe(2000);
  });

  it('shows what it ranked by, and leaves scores and latency bounds as they were', () => {
    const [first, second] = rankCandidatePool(twins(), {
      k: 3,
      policy: checkPolicy({ maxLatencyMs: 20 }),
      random: seededRandom(1),
      inFlight: new Map([['a', 5]]),
    });
    expect(first!.node.id).toBe('b');
    expect(first!.inFlight).toBeUndefined();
    // Still on the failover list, its score untouched: in-flight counts only choose among the near-best.
    expect(second).toMatchObject({
      node: { id: 'a' },
      inFlight: 5,
      predictedLatencyMs: 20,
      score: first!.score,
    });
  });
});
