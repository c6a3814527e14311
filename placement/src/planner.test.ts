import {
  greatCircleDistanceKm,
  h3CellToLatLng,
  latLngToH3Cell,
  type LatLng,
  type NodeModel,
} from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { adoptedRecord } from '../test/node-records.ts';
import {
  CITIES,
  contentId,
  heartbeat,
  MODEL,
  newTestNode,
  registration,
  T0,
} from '../test/signed-messages.ts';
import { DEMAND_RESOLUTION, DEMAND_WINDOW_MS } from './demand.ts';
import type { NodeRecord } from './node-record.ts';
import { MemoryNodeStore } from './node-store.ts';
import { Placement } from './placement.ts';
import { MIN_REPLICAS, planModelPlacement } from './planner.ts';

const OCR: NodeModel = {
  name: 'ocr',
  version: '2',
  contentId: contentId('c'),
  ready: true,
  sizeBytes: 400 * 2 ** 20,
};
/** Centre of Berlin's demand hex: distances below are from it, as the planner measures them. */
const HUB = h3CellToLatLng(latLngToH3Cell(CITIES.berlin, DEMAND_RESOLUTION));
const east = (p: LatLng, km: number): LatLng => ({
  lat: p.lat,
  lng: p.lng + km / (111.32 * Math.cos((p.lat * Math.PI) / 180)),
});

function node(
  id: string,
  at: LatLng,
  o: { models?: NodeModel[]; memoryMb?: number; accelerator?: boolean } = {},
): NodeRecord {
  return adoptedRecord({
    id,
    at,
    atMs: T0,
    models: o.models ?? [],
    hardware: { memoryMb: o.memoryMb ?? 4096, executionProviders: o.accelerator ? ['cuda', 'cpu'] : ['cpu'] },
  });
}

function plan(nodes: NodeRecord[], demand: { at: LatLng; model: string; version?: string; count: number }[]) {
  return planModelPlacement({
    nodes,
    windowMs: DEMAND_WINDOW_MS,
    demand: demand.map((d) => ({
      cell: latLngToH3Cell(d.at, DEMAND_RESOLUTION),
      model: d.model,
      version: d.version ?? '',
      count: d.count,
    })),
    nodesNear: (at, maxKm) =>
      nodes
        .map((n) => ({ n, km: greatCircleDistanceKm(at, n.location) }))
        .filter((x) => x.km <= maxKm)
        .sort((a, b) => a.km - b.km)
        .map((x) => x.n),
  });
}
const names = (p: ReturnType<typeof plan>, id: string) =>
  p.desired.get(id)!.map((m) => `${m.name}@${m.version}`);

describe('planModelPlacement', () => {
  it('places a demanded model on the two nearest nodes near the demand, with reasons', () => {
    const holder = node('holder', east(HUB, 600), { models: [OCR] }); // too far to count as a replica
    const a = node('a', east(HUB, 5));
    const b = node('b', east(HUB, 10));
    const c = node('c', east(HUB, 20));
    const p = plan([holder, a, b, c], [{ at: HUB, model: 'ocr', count: 30 }]);
    expect(MIN_REPLICAS).toBe(2);
    expect(p.assignments.map((x) => x.nodeId)).toEqual(['a', 'b']);
    expect(names(p, 'a')).toEqual(['ocr@2']);
    expect(names(p, 'c')).toEqual([]);
    expect(names(p, 'holder')).toEqual(['ocr@2']); // keeps what it holds
    expect(p.assignments[0]!.reason).toMatch(/30 requests/);
    expect(p.desired.get('a')![0]!.contentId).toBe(OCR.contentId);
  });

  it('adds replicas for a high request rate and reports a shortfall when nodes run out', () => {
    const nodes = ['a', 'b', 'c'].map((id, i) =>
      node(id, east(HUB, 5 * (i + 1)), { models: id === 'a' ? [OCR] : [] }),
    );
    // 9000 requests in 15 min = 10/s at 20 ms, run half busy: 0.4 → still 2; at 90 000 (100/s): 4 wanted.
    const busy = plan(nodes, [{ at: HUB, model: 'ocr', version: '2', count: 90_000 }]);
    expect(busy.assignments).toHaveLength(2);
    expect(busy.shortfalls).toEqual([
      { cell: expect.any(String), model: 'ocr', version: '2', replicas: 3, wanted: 4 },
    ]);
  });

  it('respects memory and accelerator needs, dropping an idle model to make room', () => {
    const gpuModel: NodeModel = { ...OCR, name: 'det', contentId: contentId('d'), prefersAccelerator: true };
    const idleBig: NodeModel = {
      name: 'old',
      version: '1',
      contentId: contentId('e'),
      ready: true,
      sizeBytes: 600 * 2 ** 20,
    };
    const cpuNode = node('cpu', east(CITIES.paris, 1), { models: [gpuModel] });
    const gpuSmall = node('gpu', east(CITIES.paris, 2), {
      accelerator: true,
      memoryMb: 2048,
      models: [idleBig],
    });
    const gpuFull = node('gpuFull', east(CITIES.paris, 3), { accelerator: true, memoryMb: 1024 });
    const p = plan([cpuNode, gpuSmall, gpuFull], [{ at: CITIES.paris, model: 'det', count: 10 }]);
    // cpu cannot run it; gpu (1536 MB usable) holds 1200 MB idle → drops it for 800 MB; gpuFull (768 MB) has no room.
    expect(names(p, 'gpu')).toEqual(['det@2']);
    expect(names(p, 'gpuFull')).toEqual([]);
    expect(p.shortfalls).toHaveLength(1);
  });

  it('ignores demand for models no node announces', () => {
    const p = plan([node('a', CITIES.paris)], [{ at: CITIES.paris, model: 'nobody-has-it', count: 100 }]);
    expect(p.assignments).toEqual([]);
  });
});

describe('Placement.desiredModels', () => {
  it('feeds candidates() demand into the plan and answers per node', async () => {
    let now = T0;
    const placement = new Placement({
      heartbeatIntervalMs: 10_000,
      now: () => now,
      store: new MemoryNodeStore(),
    });
    const holder = await newTestNode();
    const idle = await newTestNode();
    await placement.registry.register(
      await registration(holder, { issuedAtMs: now, location: east(HUB, 2), models: [MODEL, OCR] }),
    );
    await placement.registry.register(
      await registration(idle, { issuedAtMs: now, location: east(HUB, 8), models: [MODEL] }),
    );
    expect(placement.desiredModels(idle.id).map((m) => m.name)).toEqual(['m']);
    for (let i = 0; i < 20; i++) placement.candidates({ location: CITIES.berlin, model: 'ocr' });
    placement.recordDemand({ location: CITIES.berlin, model: 'ocr', version: '2' });
    now += 31_000; // past the plan's cache time
    await placement.registry.heartbeat(await heartbeat(idle, { issuedAtMs: now }));
    await placement.registry.heartbeat(await heartbeat(holder, { issuedAtMs: now, models: [MODEL, OCR] }));
    expect(placement.desiredModels(idle.id).map((m) => m.name)).toEqual(['m', 'ocr']);
    expect(placement.plan().assignments[0]).toMatchObject({ nodeId: idle.id, model: 'ocr', version: '2' });
    expect(() => placement.desiredModels('nobody')).toThrow(/nobody/);
  });
});
