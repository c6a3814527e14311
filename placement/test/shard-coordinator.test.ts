// The coordinator's merge over in-process shards (each a real Placement) against one Placement
// holding every node: nearest() and candidates() must agree exactly. workerd runs the same code in
// gateway/test/worker-placement.test.ts.
import { applyTrustEntries, Placement, type NodeRecord } from '@hexedge/placement';
import type { TrustScoreEntry } from '@hexedge/protocol';
import {
  asResult,
  modelKey,
  shardCellOf,
  ShardedPlacement,
  type DirectoryApi,
  type ShardApi,
  type ShardNearestQuery,
  type ShardPoolQuery,
  type ShardSummary,
} from '@hexedge/placement/shards';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL, newTestNode, registration } from './signed-messages.ts';

function seeded(seed: number) {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** In-process shards with the Durable Object's RPC shape (no moves: the Worker test covers those). */
function localShards(now: () => number) {
  const shards = new Map<string, Placement>();
  const routes = new Map<string, string>();
  const placementOf = (cell: string) =>
    shards.get(cell) ??
    shards
      .set(
        cell,
        new Placement({ heartbeatIntervalMs: 60_000, now, random: seeded(1), assumeLocationsVerified: true }),
      )
      .get(cell)!;
  const api = (cell: string): ShardApi =>
    ({
      register: (m: unknown) =>
        asResult(async () => ({
          kind: 'kept' as const,
          record: await placementOf(cell).registry.register(m),
          ack: { ok: true as const, heartbeatIntervalMs: 60_000 },
        })),
      nearest: (q: ShardNearestQuery) => asResult(() => placementOf(cell).nearest({ ...q })),
      candidatePool: (q: ShardPoolQuery, o: { recordDemand: boolean }) =>
        asResult(() => placementOf(cell).candidatePool(q, o)),
      applyTrust: (scores: TrustScoreEntry[], o: { assumeLocationsVerified: boolean }) =>
        asResult(() => applyTrustEntries({ placement: placementOf(cell), scores, ...o })),
    }) as unknown as ShardApi;
  const directory: DirectoryApi = {
    lookup: async (id) => routes.get(id) ?? null,
    lookupMany: async (ids) => ids.map((id) => routes.get(id) ?? null),
    advanceSeq: async () => ({ advanced: true, last: -1 }),
    claimNonce: async () => true,
    assign: async (id, cell) => void routes.set(id, cell),
    unassign: async () => {},
    reportShard: async () => {},
    shardMap: async (): Promise<ShardSummary[]> =>
      [...shards].map(([cell, p]) => ({
        cell,
        nodes: p.registry.size,
        models: [
          ...new Set(
            [...p.registry.values()].flatMap((n: NodeRecord) =>
              n.models.map((m) => modelKey(m.name, m.version)),
            ),
          ),
        ],
      })),
  };
  return { network: { shard: api, directory: () => directory }, shards };
}

describe('ShardedPlacement over in-process shards', () => {
  const now = () => 1_800_000_000_000;
  const single = new Placement({
    heartbeatIntervalMs: 60_000,
    now,
    random: seeded(1),
    assumeLocationsVerified: true,
  });
  const { network, shards } = localShards(now);
  const sharded = new ShardedPlacement({ network, random: seeded(1), now });

  beforeAll(async () => {
    const rand = seeded(42);
    // Dense around Western Europe and astride the antimeridian, sparse elsewhere.
    const places = [...Array(150)].map((_, i) =>
      i % 3 === 0
        ? { lat: 50 + (rand() - 0.5) * 8, lng: 6 + (rand() - 0.5) * 12 }
        : i % 3 === 1
          ? { lat: -17 + (rand() - 0.5) * 6, lng: ((180 + (rand() - 0.5) * 6 + 540) % 360) - 180 }
          : { lat: (rand() - 0.5) * 160, lng: (rand() - 0.5) * 360 },
    );
    for (const location of places) {
      const node = await newTestNode();
      const price = Math.floor(rand() * 4);
      const message = await registration(node, {
        issuedAtMs: now(),
        location,
        models: [MODEL],
        pricePerRequest: price,
      });
      await single.registry.register(message);
      await sharded.register(message);
    }
    expect(shards.size).toBeGreaterThan(20);
  });

  it('returns the same nearest nodes, order and distances', async () => {
    const rand = seeded(9);
    for (let i = 0; i < 200; i++) {
      const location =
        i % 2
          ? { lat: -17 + (rand() - 0.5) * 8, lng: ((180 + (rand() - 0.5) * 8 + 540) % 360) - 180 }
          : { lat: (rand() - 0.5) * 170, lng: (rand() - 0.5) * 360 };
      const k = 1 + Math.floor(rand() * 12);
      const a = (await sharded.nearest({ location, k, model: 'm' })).map((c) => [c.node.id, c.distanceKm]);
      const b = single.nearest({ location, k, model: 'm' }).map((c) => [c.node.id, c.distanceKm]);
      expect(a).toEqual(b);
    }
    expect(sharded.stats.multiShardQueries).toBeGreaterThan(20);
  });

  it('returns the same failover lists (pool merged, then ranked once)', async () => {
    const rand = seeded(11);
    const busy = new Map(
      [...single.registry.values()].filter((_, j) => j % 3 === 0).map((n, j) => [n.id, 1 + (j % 5)]),
    );
    for (let i = 0; i < 100; i++) {
      const location = { lat: 50 + (rand() - 0.5) * 10, lng: 6 + (rand() - 0.5) * 14 };
      const policy =
        i % 3 === 0 ? { prefer: 'price' as const } : i % 3 === 1 ? { maxLatencyMs: 20 } : undefined;
      // Every other list with a gateway's forwards outstanding at some of the nodes (ranking only).
      const inFlight = i % 2 ? { inFlight: busy } : {};
      const a = (
        await sharded.candidates({ location, model: 'm', ...(policy ? { policy } : {}), ...inFlight })
      ).map((c) => [c.node.id, c.score]);
      const b = single
        .candidates({ location, model: 'm', ...(policy ? { policy } : {}), ...inFlight })
        .map((c) => [c.node.id, c.score]);
      expect(a).toEqual(b);
    }
  });

  it('applies a trust push in each node’s shard exactly as one Placement applies it', async () => {
    const ids = [...single.registry.values()].map((n) => n.id);
    const scores: TrustScoreEntry[] = ids.slice(0, 90).map((nodeId, i) => ({
      nodeId,
      score: (i % 10) / 10,
      probation: i % 3 === 0,
      reasons: [`r${i % 4}`],
      locationVerified: true,
      verifiedClaim: null,
    }));
    scores.push({
      nodeId: 'x'.repeat(43),
      score: 1,
      probation: false,
      reasons: [],
      locationVerified: true,
      verifiedClaim: null,
    });
    const expected = applyTrustEntries({ placement: single, scores, assumeLocationsVerified: true });
    const got = await sharded.applyTrust(scores, { assumeLocationsVerified: true });
    expect(new Set(got.applied)).toEqual(new Set(expected.applied));
    expect(got.ignored).toEqual(['x'.repeat(43)]);
    for (const id of ids) {
      const shard = [...shards.values()].find((p) => p.registry.get(id))!;
      expect(shard.getTrust(id)).toEqual(single.getTrust(id));
    }
    // And the scores did land (entries on probation keep placement's probation, so not theirs).
    for (const s of scores.slice(0, 90).filter((e) => !e.probation)) {
      const shard = [...shards.values()].find((p) => p.registry.get(s.nodeId))!;
      expect(shard.getTrust(s.nodeId).score).toBe(s.score);
    }
  });

  it('refuses bad queries with the single-process errors', async () => {
    await expect(sharded.nearest({ location: { lat: 95, lng: 0 }, k: 3 })).rejects.toThrow(
      /location.lat must be a number in \[-90, 90\], got 95/,
    );
    await expect(sharded.nearest({ location: { lat: 0, lng: 0 }, k: 0 })).rejects.toThrow(
      /k must be an integer/,
    );
    await expect(sharded.candidates({ location: { lat: 0, lng: 0 }, model: '' })).rejects.toThrow(
      /model must be a non-empty string/,
    );
    expect(await sharded.isKnownModel('m')).toBe(true);
    expect(await sharded.isKnownModel('m', '2')).toBe(false);
    expect(shardCellOf({ lat: 0, lng: 0 })).toMatch(/^82/);
  });
});
