import { greatCircleDistanceKm, type LatLng, type NodeModel } from '@hexedge/protocol';
import { describe, expect, it, vi } from 'vitest';
import { adoptedRecord } from '../test/node-records.ts';
import { contentId, T0 } from '../test/signed-messages.ts';
import { ModelHolders } from './model-holders.ts';
import { servesModel, type NodeRecord } from './node-record.ts';
import { MemoryNodeStore } from './node-store.ts';
import { Placement } from './placement.ts';
import { seededRandom } from './random.ts';

const HEARTBEAT_MS = 10_000;
const model = (name: string, o: { version?: string; ready?: boolean; content?: string } = {}): NodeModel => ({
  name,
  version: o.version ?? '1',
  contentId: contentId(o.content ?? (name === 'rare' ? 'b' : 'a')),
  ready: o.ready ?? true,
});

/** A record as a registry stores it (placed without signatures: restored from a store, or adopted). */
function record(id: string, at: LatLng, models: NodeModel[], lastHeartbeatAtMs = T0): NodeRecord {
  return adoptedRecord({ id, at, atMs: T0, models, lastHeartbeatAtMs, locationVerified: false });
}

/** A placement restored with `nodes` (the store path: no signature work for thousands of nodes). */
function restored(nodes: NodeRecord[]): Placement {
  const store = new MemoryNodeStore();
  for (const n of nodes) store.nodes.set(n.id, n);
  return new Placement({ heartbeatIntervalMs: HEARTBEAT_MS, now: () => T0, store, random: seededRandom(7) });
}

const spread = (random: () => number): LatLng => ({ lat: 40 + random() * 20, lng: -10 + random() * 40 });

describe('Placement: unknown and rarely held models and artifacts cost O(holders)', () => {
  // 20 000 nodes hold 'common'; 3 of them also 'rare' (artifact bbbb…). A peers request is public,
  // an inference for a rare model any key's: both walked every node through the filtered nearest search.
  const random = seededRandom(1);
  const nodes = Array.from({ length: 20_000 }, (_, i) =>
    record(`n${i}`, spread(random), i % 7000 === 0 ? [model('common'), model('rare')] : [model('common')]),
  );
  const placement = restored(nodes);
  const at = { lat: 50, lng: 5 };

  it('an artifact nobody holds, or held by fewer nodes than asked for, looks at its holders only', () => {
    const looked = vi.spyOn(placement.registry, 'statusOf');
    expect(placement.nearest({ location: at, k: 10, contentId: contentId('f') })).toEqual([]);
    expect(looked).toHaveBeenCalledTimes(0);
    const peers = placement.nearest({ location: at, k: 10, contentId: contentId('b') });
    expect(peers.map((c) => c.node.id).sort()).toEqual(['n0', 'n14000', 'n7000']);
    expect(looked.mock.calls.length).toBeLessThanOrEqual(3);
    looked.mockRestore();
  });

  it('a rare model’s candidates and an unknown model’s check never walk every node', () => {
    const looked = vi.spyOn(placement.registry, 'statusOf');
    const listed = vi.spyOn(placement.registry, 'values');
    expect(
      placement
        .candidatePool({ location: at, model: 'rare' })
        .map((e) => e.node.id)
        .sort(),
    ).toEqual(['n0', 'n14000', 'n7000']);
    expect(looked.mock.calls.length).toBeLessThanOrEqual(3);
    expect(placement.isKnownModel('no-such-model')).toBe(false);
    expect(placement.isKnownModel('rare', '1')).toBe(true);
    expect(placement.isKnownModel('rare', '2')).toBe(false);
    expect(listed).toHaveBeenCalledTimes(0);
    looked.mockRestore();
    listed.mockRestore();
  });
});

describe('Placement answers with the holder index equal a brute-force scan (property)', () => {
  const bruteNearest = (p: Placement, q: { at: LatLng; k: number; model?: string; contentId?: string }) =>
    [...p.registry.values()]
      .filter(
        (n) =>
          p.registry.statusOf(n) === 'healthy' &&
          (!q.model || servesModel(n, q.model) !== undefined) &&
          (q.contentId === undefined || n.models.some((m) => m.contentId === q.contentId && m.ready)),
      )
      .map((n) => ({ id: n.id, distanceKm: greatCircleDistanceKm(q.at, n.location) }))
      .sort((a, b) => a.distanceKm - b.distanceKm || (a.id < b.id ? -1 : 1))
      .slice(0, q.k);

  it('matches over random fleets, model changes, silences and departures', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = seededRandom(seed);
      const names = ['m0', 'm1', 'm2', 'm3'];
      const pick = () => {
        const out: NodeModel[] = [];
        for (const [i, name] of names.entries())
          if (random() < [0.9, 0.3, 0.05, 0.01][i]!)
            out.push(
              model(name, {
                version: random() < 0.5 ? '1' : '2',
                ready: random() < 0.8,
                content: 'abcd'[i]!,
              }),
            );
        return out;
      };
      const count = 50 + Math.floor(random() * 400);
      const p = restored(Array.from({ length: count }, (_, i) => record(`n${i}`, spread(random), pick())));
      for (let step = 0; step < 60; step++) {
        const id = `n${Math.floor(random() * count)}`;
        const roll = random();
        if (roll < 0.4)
          p.registry.adopt(record(id, spread(random), pick(), random() < 0.2 ? T0 - 10 * HEARTBEAT_MS : T0));
        else if (roll < 0.5) p.registry.release(id);
        const at = spread(random);
        const k = 1 + Math.floor(random() * 20);
        const name = names[Math.floor(random() * names.length)]!;
        const content = contentId('abcde'[Math.floor(random() * 5)]!);
        for (const q of [
          { at, k, model: name },
          { at, k, contentId: content },
          { at, k, model: name, contentId: content },
          { at, k },
        ]) {
          const got = p
            .nearest({ location: q.at, ...q })
            .map((c) => ({ id: c.node.id, distanceKm: c.distanceKm }));
          expect(got, `seed ${seed} step ${step} ${JSON.stringify(q)}`).toEqual(bruteNearest(p, q));
        }
        const pool = p.candidatePool({ location: at, model: name, k }).map((e) => e.node.id);
        const eligible = bruteNearest(p, { at, k: Math.max(k, 16), model: name }).map((e) => e.id);
        expect(pool, `seed ${seed} step ${step} pool ${name}`).toEqual(eligible);
        expect(p.isKnownModel(name)).toBe(
          [...p.registry.values()].some((n) => n.models.some((m) => m.name === name)),
        );
        expect(p.isKnownModel(name, '2')).toBe(
          [...p.registry.values()].some((n) => n.models.some((m) => m.name === name && m.version === '2')),
        );
      }
    }
  });
});

describe('ModelHolders', () => {
  it('follows a node’s models through changes and removal, dropping empty sets', () => {
    const h = new ModelHolders();
    h.upsert(record('a', { lat: 0, lng: 0 }, [model('x'), model('y', { ready: false })]));
    expect([...(h.ofModel('x') ?? [])]).toEqual(['a']);
    expect(h.ofReadyContent(contentId('a'))?.has('a')).toBe(true);
    h.upsert(record('a', { lat: 0, lng: 0 }, [model('y', { version: '2' })]));
    expect(h.ofModel('x')).toBeUndefined();
    expect(h.ofModel('y', '1')).toBeUndefined();
    expect(h.ofModel('y', '2')?.has('a')).toBe(true);
    h.remove('a');
    expect(h.ofModel('y')).toBeUndefined();
    expect(h.ofReadyContent(contentId('a'))).toBeUndefined();
  });
});
