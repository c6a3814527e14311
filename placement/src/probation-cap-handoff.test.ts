// A node handed from one registry to another (the Worker's shards, on a move) meets the probation cap
// of the one it arrives in, with the source of the registration that moved it; the Worker's shards
// learn of evictions for room to clear their directory entries.
import { HexEdgeError } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { CITIES, newTestNode, registration, T0, type TestNode } from '../test/signed-messages.ts';
import type { NodeRecord } from './node-record.ts';
import { Placement } from './placement.ts';

function setup(maxProbationNodes: number) {
  const evictedForRoom: string[] = [];
  const placement = new Placement({
    heartbeatIntervalMs: 10_000,
    now: () => T0,
    maxProbationNodes,
    onEvictedForRoom: (nodeId) => evictedForRoom.push(nodeId),
  });
  const register = async (node: TestNode, source: string) =>
    placement.registry.register(await registration(node, { issuedAtMs: T0, location: CITIES.paris }), {
      source,
    });
  return { placement, evictedForRoom, register };
}

/** A node's record as another registry (the shard it leaves) accepted it. */
async function recordElsewhere(node: TestNode): Promise<NodeRecord> {
  const other = new Placement({ heartbeatIntervalMs: 10_000, now: () => T0 });
  return other.registry.register(await registration(node, { issuedAtMs: T0, location: CITIES.paris }));
}

const nodes = (count: number) => Promise.all(Array.from({ length: count }, () => newTestNode()));

describe('the probation cap for nodes handed over from another shard', () => {
  it('refuses an arriving node whose source holds the biggest share, changing nothing', async () => {
    const { placement, evictedForRoom, register } = setup(2);
    const [a, b, mover] = await nodes(3);
    await register(a!, 'flood');
    await register(b!, 'flood');
    const record = await recordElsewhere(mover!);
    let refused: unknown;
    try {
      placement.registry.adopt(record, { admit: { source: 'flood' } });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(HexEdgeError);
    expect((refused as HexEdgeError).code).toBe('OVERLOADED');
    expect(placement.registry.get(mover!.id)).toBeUndefined();
    expect(placement.registry.size).toBe(2);
    expect(evictedForRoom).toEqual([]);
  });

  it('lets an arriving node from another source take the biggest source’s oldest slot, and reports it', async () => {
    const { placement, evictedForRoom, register } = setup(2);
    const [a, b, mover] = await nodes(3);
    await register(a!, 'flood');
    await register(b!, 'flood');
    placement.registry.adopt(await recordElsewhere(mover!), { admit: { source: 'other' } });
    expect(placement.registry.get(mover!.id)).toBeDefined();
    expect(placement.registry.get(a!.id)).toBeUndefined();
    expect(evictedForRoom).toEqual([a!.id]);
    expect(placement.probationNodeCount).toBe(2);
  });

  it('takes back a returning node (its move was refused) even where its slot was taken meanwhile', async () => {
    const { placement, evictedForRoom, register } = setup(1);
    const [returning, taker] = await nodes(2);
    await register(taker!, 'other');
    placement.registry.adopt(await recordElsewhere(returning!), {
      admit: { source: 'flood', returning: true },
    });
    expect(placement.registry.get(returning!.id)).toBeDefined();
    expect(placement.registry.get(taker!.id)).toBeDefined();
    expect(evictedForRoom).toEqual([]);
    expect(placement.probationNodeCount).toBe(2);
  });

  it('adopts without the cap when not asked to admit (a node with standing)', async () => {
    const { placement, register } = setup(1);
    const [a, scored] = await nodes(2);
    await register(a!, 'flood');
    placement.registry.adopt(await recordElsewhere(scored!));
    placement.setTrust(scored!.id, 0.9);
    expect(placement.registry.size).toBe(2);
    expect(placement.probationNodeCount).toBe(1);
  });
});
