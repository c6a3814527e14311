import type { NodeModel } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { adoptedRecord } from '../test/node-records.ts';
import { CITIES, newTestNode, registration, T0 } from '../test/signed-messages.ts';
import type { NodeRecord } from './node-record.ts';
import { Placement } from './placement.ts';
import type { DesiredModel } from './planner.ts';
import { stableHash32, stableUnit } from './stable-hash.ts';
import { applyVersionPlacements, canaryNodeIds, type VersionPlacement } from './version-placement.ts';

const V1: NodeModel = { name: 'm', version: '1', contentId: '1'.repeat(64), ready: true };
const V2: NodeModel = { name: 'm', version: '2', contentId: '2'.repeat(64), ready: true };
const OTHER: NodeModel = { name: 'other', version: '1', contentId: '3'.repeat(64), ready: true };

function node(id: string, models: NodeModel[]): NodeRecord {
  return adoptedRecord({ id, at: { lat: 52.37, lng: 4.9 }, atMs: 0, models });
}

const spec = (o: Partial<VersionPlacement> = {}): VersionPlacement => ({
  rolloutId: 'ro-1',
  model: 'm',
  version: '2',
  contentId: V2.contentId,
  stage: 'canary',
  nodeShare: 0.25,
  ...o,
});
const desiredOf = (nodes: NodeRecord[]) =>
  new Map<string, DesiredModel[]>(
    nodes.map((n) => [n.id, n.models.map(({ name, version, contentId }) => ({ name, version, contentId }))]),
  );
const holders = (d: Map<string, DesiredModel[]>, version: string) =>
  [...d].filter(([, list]) => list.some((m) => m.name === 'm' && m.version === version)).map(([id]) => id);

describe('stableHash32', () => {
  it('is stable and spreads near-identical keys evenly', () => {
    expect(stableHash32('key-1')).toBe(stableHash32('key-1'));
    expect(stableHash32('key-1')).not.toBe(stableHash32('key-2'));
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(stableUnit(`ro-1\u0000caller-${i}`) * 10)]!++;
    for (const b of buckets) expect(b).toBeGreaterThan(850);
    for (const b of buckets) expect(b).toBeLessThan(1150);
  });
});

describe('version placements on top of the plan', () => {
  const fleet = Array.from({ length: 20 }, (_, i) => node(`n${String(i).padStart(2, '0')}`, [V1]));
  const bystander = node('bystander', [OTHER]);

  it('puts a canary on the bounded share of the model’s holders only, the same nodes every time', () => {
    const nodes = [...fleet, bystander];
    const chosen = canaryNodeIds(spec(), nodes);
    expect(chosen.size).toBe(5); // 25 % of 20 holders; the bystander does not hold the model
    expect(chosen.has('bystander')).toBe(false);
    expect(canaryNodeIds(spec(), [...nodes].reverse())).toEqual(chosen);
    // Another rollout picks another cohort of nodes.
    expect(canaryNodeIds(spec({ rolloutId: 'ro-2' }), nodes)).not.toEqual(chosen);
    const desired = desiredOf(nodes);
    applyVersionPlacements({ desired, nodes, specs: [spec()] });
    expect(new Set(holders(desired, '2'))).toEqual(chosen);
    expect(holders(desired, '1')).toHaveLength(20); // the baseline stays everywhere
  });

  it('counts nodes already holding the canary, caps at maxNodes and places at least one', () => {
    const nodes = [node('a', [V1, V2]), ...fleet.slice(0, 7)];
    expect(canaryNodeIds(spec({ nodeShare: 0.5 }), nodes).size).toBe(4);
    expect(canaryNodeIds(spec({ nodeShare: 0.5 }), nodes).has('a')).toBe(true);
    expect(canaryNodeIds(spec({ nodeShare: 1, maxNodes: 2 }), nodes).size).toBe(2);
    expect(canaryNodeIds(spec({ nodeShare: 0.01 }), fleet.slice(0, 3)).size).toBe(1);
  });

  it('removes a canary the demand planner put elsewhere, puts a promoted version on every holder, a withdrawn one on none', () => {
    const nodes = fleet.slice(0, 8);
    const desired = desiredOf(nodes);
    // Canary traffic counts as demand: the planner asked every node for version 2.
    for (const list of desired.values()) list.push({ name: 'm', version: '2', contentId: V2.contentId });
    applyVersionPlacements({ desired, nodes, specs: [spec()] });
    expect(holders(desired, '2')).toHaveLength(2);

    const promoted = desiredOf(nodes);
    applyVersionPlacements({ desired: promoted, nodes, specs: [spec({ stage: 'promoted' })] });
    expect(holders(promoted, '2')).toHaveLength(8);

    const withNodeHolding = [node('keeps', [V1, V2]), ...nodes];
    const withdrawn = desiredOf(withNodeHolding);
    for (const list of withdrawn.values()) list.push({ name: 'm', version: '2', contentId: V2.contentId });
    applyVersionPlacements({
      desired: withdrawn,
      nodes: withNodeHolding,
      specs: [spec({ stage: 'withdrawn' })],
    });
    // Nothing is told to pull it; a node that holds it is not told to drop it (the plan never unloads).
    expect(holders(withdrawn, '2')).toEqual(['keeps']);
  });
});

describe('Placement.setVersionPlacements', () => {
  it('re-plans at once: the canary node is told to pull, a joining node is not offered the canary', async () => {
    const placement = new Placement({ heartbeatIntervalMs: 10_000, now: () => T0 });
    const nodes = [await newTestNode(), await newTestNode()];
    for (const n of nodes)
      await placement.registry.register(
        await registration(n, { issuedAtMs: T0, location: CITIES.berlin, models: [V1] }),
      );
    const versions = () =>
      nodes.map((n) => placement.desiredModels(n.id).map((m) => `${m.name}@${m.version}`));
    expect(versions()).toEqual([['m@1'], ['m@1']]);
    placement.setVersionPlacements([spec({ nodeShare: 0.5 })]); // within the plan's cache time
    expect(versions().flat().sort()).toEqual(['m@1', 'm@1', 'm@2']);
    const catalogue = [V1, V2].map((m) => ({
      ...m,
      task: 'classification',
      description: '',
      sizeBytes: 1000,
      inputs: [],
      outputs: [],
      batchable: true,
      quantization: { scheme: 'fp32' },
      tolerance: 1e-5,
      prefersAccelerator: false,
      license: 'x',
      source: 'x',
    }));
    const joining = (specs: VersionPlacement[]) => {
      placement.setVersionPlacements(specs);
      return placement
        .modelsForJoiningNode({
          location: CITIES.berlin,
          hardware: { memoryMb: 1024, executionProviders: ['cpu'] },
          catalogue: catalogue as never,
        })
        .map((m) => m.version)
        .sort();
    };
    expect(joining([spec()])).toEqual(['1']);
    expect(joining([spec({ stage: 'withdrawn' })])).toEqual(['1']);
    expect(joining([spec({ stage: 'promoted' })])).toEqual(['1', '2']);
  });
});
