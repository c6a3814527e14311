import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { useEd25519Engine } from '@hexedge/protocol';
import { nodeEd25519, sodiumEd25519 } from '@hexedge/protocol/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Placement } from '../src/index.ts';
import { SqliteNodeStore } from '../src/adapters/node.ts';
import { CITIES, heartbeat, MODEL, newTestNode, registration, T0, type TestNode } from './signed-messages.ts';

describe('SqliteNodeStore: restart with no loss', () => {
  let dir: string;
  let path: string;
  let now: number;
  const stores: SqliteNodeStore[] = [];
  const open = () => {
    const store = new SqliteNodeStore({ path });
    stores.push(store);
    return new Placement({ heartbeatIntervalMs: 10_000, now: () => now, store });
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hexedge-placement-'));
    path = join(dir, 'placement.sqlite');
    now = T0;
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps nodes, sequence numbers, trust, location flags and demand across a restart', async () => {
    const first = open();
    const nodes: TestNode[] = [];
    for (const at of [CITIES.paris, CITIES.berlin, CITIES.frankfurt]) {
      const node = await newTestNode();
      nodes.push(node);
      await first.registry.register(
        await registration(node, { issuedAtMs: now, location: at, pricePerRequest: 2 }),
        { source: '2001:db8:1::/48' },
      );
    }
    const [paris, berlin, frankfurt] = nodes as [TestNode, TestNode, TestNode];
    const replay = await heartbeat(paris, { issuedAtMs: now });
    await first.registry.heartbeat(replay);
    await first.registry.heartbeat(await heartbeat(paris, { issuedAtMs: now, draining: true }));
    first.setTrust(berlin.id, 0.8, ['spot checks passed']);
    first.markLocationVerified(frankfurt.id);
    for (let i = 0; i < 5; i++) first.candidates({ location: CITIES.berlin, model: 'm' });
    first.checkpoint();
    // No close(): a crash. synchronous=FULL and the group commit the gateway waits for before it answers
    // (durable()) mean every acknowledged write is on disk already.
    await first.registry.durable();

    now += 5_000;
    const second = open();
    expect(second.registry.size).toBe(3);
    const restoredParis = second.registry.get(paris.id)!;
    expect(restoredParis).toMatchObject({
      lastSeq: 2,
      draining: true,
      pricePerRequest: 2,
      models: [MODEL],
      // The probation cap's source comes back with the node.
      admittedFrom: '2001:db8:1::/48',
    });
    expect(second.getTrust(berlin.id)).toEqual({
      score: 0.8,
      probation: false,
      reasons: ['spot checks passed'],
    });
    expect(second.registry.get(frankfurt.id)!.locationVerified).toBe(true);
    expect(second.registry.get(frankfurt.id)!.regions).toContain('EU');
    // The index is rebuilt, and a replay from before the restart is still refused.
    expect(second.nearest({ location: CITIES.berlin, k: 1 })[0]!.node.id).toBe(berlin.id);
    await expect(second.registry.heartbeat(replay)).rejects.toMatchObject({ code: 'REPLAYED' });
    // The node reconciles through its next heartbeat.
    await second.registry.heartbeat(await heartbeat(paris, { issuedAtMs: now }));
    expect(second.registry.statusOf(second.registry.get(paris.id)!)).toBe('healthy');
    expect(second.plan()).toBeDefined();

    const db = new DatabaseSync(path, { readOnly: true });
    try {
      expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      expect((db.prepare('SELECT sum(count) AS n FROM demand').get() as { n: number }).n).toBe(5);
    } finally {
      db.close();
    }
  });

  it('commits a flood of heartbeats in a few groups, each durable before it is answered', async () => {
    const first = open();
    const store = stores.at(-1)!;
    const nodes: TestNode[] = [];
    for (let i = 0; i < 50; i++) {
      const node = await newTestNode();
      nodes.push(node);
      await first.registry.register(await registration(node, { issuedAtMs: now, location: CITIES.paris }));
    }
    await first.registry.durable();
    const commitsBefore = store.stats.nodeCommits;
    // 4 rounds of a heartbeat from each of the 50 nodes arriving together, each answered only once
    // durable(), as the gateway does. Verified synchronously, as the Node gateway verifies (libsodium,
    // installed by buildGateway): with WebCrypto's thread pool the checks finish over as many event-loop
    // turns as the machine's load makes (45 groups seen in CI), which says nothing about the grouping.
    const previous = useEd25519Engine(sodiumEd25519 ?? nodeEd25519);
    try {
      for (let round = 0; round < 4; round++) {
        const messages = await Promise.all(nodes.map((n) => heartbeat(n, { issuedAtMs: now })));
        await Promise.all(
          messages.map(async (m) => (await first.registry.heartbeat(m), await first.registry.durable())),
        );
      }
    } finally {
      useEd25519Engine(previous);
    }
    // One durable commit per message would be 200 fsyncs on the event loop. A group is what one
    // event-loop turn accepted: the 50 heartbeats of a round arrive in one turn, so one commit each.
    expect(store.stats.nodeCommits - commitsBefore).toBeLessThanOrEqual(4);
    // A crash now (no close): every answered heartbeat's sequence number is on disk.
    const second = open();
    for (const n of nodes) expect(second.registry.get(n.id)!.lastSeq).toBe(n.seq);
  });

  it('forgets evicted nodes durably, and a refused message writes nothing', async () => {
    const first = open();
    const node = await newTestNode();
    await first.registry.register(await registration(node, { issuedAtMs: now, location: CITIES.paris }));
    await expect(
      first.registry.register(await registration(node, { issuedAtMs: now, location: CITIES.berlin })),
    ).rejects.toMatchObject({
      code: 'REPLAYED',
    });
    now += 11 * 60_000;
    expect(first.evictSilent()).toEqual([node.id]);
    const second = open();
    expect(second.registry.size).toBe(0);
  });
});
