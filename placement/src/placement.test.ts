import type { LatLng, NodeModel, RegistrationBody } from '@hexedge/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CITIES,
  contentId,
  heartbeat,
  MODEL,
  newTestNode,
  registration,
  T0,
  type TestNode,
} from '../test/signed-messages.ts';
import { MemoryNodeStore } from './node-store.ts';
import { Placement } from './placement.ts';
import { seededRandom } from './random.ts';

/** Offsets a point by roughly `km` to the east (1° of longitude ≈ 111 km · cos lat). */
const east = (p: LatLng, km: number): LatLng => ({
  lat: p.lat,
  lng: p.lng + km / (111.32 * Math.cos((p.lat * Math.PI) / 180)),
});
const loaded = (load: NodeModel['load']): NodeModel => ({ ...MODEL, load });

describe('Placement scoring and failover', () => {
  let now: number;
  let store: MemoryNodeStore;
  let placement: Placement;
  beforeEach(() => {
    now = T0;
    store = new MemoryNodeStore();
    placement = new Placement({
      heartbeatIntervalMs: 10_000,
      now: () => now,
      store,
      random: seededRandom(1),
    });
  });

  async function add(
    at: LatLng,
    extra: {
      models?: NodeModel[];
      hardware?: RegistrationBody['hardware'];
      pricePerRequest?: number;
      trust?: number;
      verified?: boolean;
    } = {},
  ) {
    const node = await newTestNode();
    await placement.registry.register(await registration(node, { issuedAtMs: now, location: at, ...extra }));
    if (extra.trust !== undefined) placement.setTrust(node.id, extra.trust, ['test']);
    if (extra.verified) placement.markLocationVerified(node.id);
    return node;
  }
  const firstOf = (query: Parameters<Placement['candidates']>[0]) => placement.candidates(query)[0]?.node.id;
  const ids = (list: { node: { id: string } }[]) => list.map((c) => c.node.id);

  it('ranks by predicted latency: nearest first when nothing else differs', async () => {
    const near = await add(CITIES.amsterdam);
    const far = await add(CITIES.paris);
    const list = placement.candidates({ location: CITIES.amsterdam, model: 'm' });
    expect(ids(list)).toEqual([near.id, far.id]);
    expect(list[0]!.predictedLatencyMs).toBeLessThan(list[1]!.predictedLatencyMs);
  });

  it('moves traffic from a slow node (reported outcomes) to a slightly farther idle one', async () => {
    const slow = await add(CITIES.amsterdam);
    const idle = await add(east(CITIES.amsterdam, 300)); // ~6 ms more round trip
    expect(firstOf({ location: CITIES.amsterdam, model: 'm' })).toBe(slow.id);
    placement.reportOutcome({ nodeId: slow.id, model: 'm', latencyMs: 400, ok: true });
    expect(ids(placement.candidates({ location: CITIES.amsterdam, model: 'm' }))).toEqual([idle.id, slow.id]);
    // Peak-EWMA decays, and the measurement gives way to the claim (MEASURED_MEMORY_MS): five minutes later the slow sample is forgotten.
    now += 300_000;
    for (const n of [slow, idle]) await placement.registry.heartbeat(await heartbeat(n, { issuedAtMs: now }));
    expect(firstOf({ location: CITIES.amsterdam, model: 'm' })).toBe(slow.id);
  });

  it('a black-hole node next to the caller (claims 0 ms, fails every call) loses first place, then its circuit opens', async () => {
    const hole = await add(CITIES.amsterdam, { models: [loaded({ queueDepth: 0, inFlight: 0, ewmaServiceMs: 0 })] });
    const honest = await add(east(CITIES.amsterdam, 3), { models: [loaded({ queueDepth: 0, inFlight: 0, ewmaServiceMs: 20 })] });
    // Before any call the claim alone does not win: it is floored at the default (both 20 ms).
    expect(firstOf({ location: CITIES.amsterdam, model: 'm' })).toBe(hole.id); // nearest, on equal terms
    placement.reportOutcome({ nodeId: hole.id, model: 'm', latencyMs: 2, ok: false });
    placement.reportOutcome({ nodeId: honest.id, model: 'm', latencyMs: 25, ok: true });
    // Two minutes later the failure's Peak-EWMA penalty has decayed; its error rate still costs it first place.
    now += 120_000;
    for (const n of [hole, honest]) await placement.registry.heartbeat(await heartbeat(n, { issuedAtMs: now, models: [loaded({ queueDepth: 0, inFlight: 0, ewmaServiceMs: n === hole ? 0 : 20 })] }));
    placement.reportOutcome({ nodeId: hole.id, model: 'm', latencyMs: 2, ok: false });
    now += 60_000;
    for (const n of [hole, honest]) await placement.registry.heartbeat(await heartbeat(n, { issuedAtMs: now, models: [loaded({ queueDepth: 0, inFlight: 0, ewmaServiceMs: n === hole ? 0 : 20 })] }));
    for (let i = 0; i < 50; i++) expect(firstOf({ location: CITIES.amsterdam, model: 'm' })).toBe(honest.id);
    // A streak of failures opens its circuit: it is on no failover list at all.
    for (let i = 0; i < 5; i++) placement.reportOutcome({ nodeId: hole.id, model: 'm', latencyMs: 2, ok: false });
    expect(placement.isCircuitOpen(hole.id)).toBe(true);
    expect(ids(placement.candidates({ location: CITIES.amsterdam, model: 'm' }))).toEqual([honest.id]);
    // Backpressure is not a fault: an overloaded honest node never trips its breaker.
    for (let i = 0; i < 20; i++) placement.reportOutcome({ nodeId: honest.id, model: 'm', latencyMs: 2, ok: false, overloaded: true });
    expect(placement.isCircuitOpen(honest.id)).toBe(false);
  });

  it('treats a failed call as slow', async () => {
    const flaky = await add(CITIES.amsterdam);
    const steady = await add(east(CITIES.amsterdam, 40));
    placement.reportOutcome({ nodeId: flaky.id, model: 'm', latencyMs: 3, ok: false });
    expect(firstOf({ location: CITIES.amsterdam, model: 'm' })).toBe(steady.id);
  });

  it('moves traffic from an overloaded node (heartbeat queue) to a farther idle one', async () => {
    const busy = await add(CITIES.amsterdam);
    const idle = await add(east(CITIES.amsterdam, 60));
    await placement.registry.heartbeat(
      await heartbeat(busy, {
        issuedAtMs: now,
        models: [loaded({ queueDepth: 12, inFlight: 2, ewmaServiceMs: 20 })],
      }),
    );
    await placement.registry.heartbeat(
      await heartbeat(idle, {
        issuedAtMs: now,
        models: [loaded({ queueDepth: 0, inFlight: 0, ewmaServiceMs: 20 })],
      }),
    );
    const list = placement.candidates({ location: CITIES.amsterdam, model: 'm' });
    expect(ids(list)).toEqual([idle.id, busy.id]);
    expect(list[1]!.predictedLatencyMs).toBeGreaterThan(120); // 12 queued × 20 ms / 2 slots
  });

  it('spreads load over equivalent nodes instead of herding onto one (seeded P2C)', async () => {
    const nodes = [];
    for (let i = 0; i < 4; i++) nodes.push(await add(east(CITIES.berlin, 2 + i)));
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const id = firstOf({ location: CITIES.berlin, model: 'm' })!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.size).toBeGreaterThanOrEqual(3);
    expect(Math.max(...counts.values()) / 2000).toBeLessThan(0.6);
  });

  it('caps the traffic share of a new node on probation', async () => {
    // Same trust, but the newcomer is clearly nearer: without probation it would win every time.
    const veteran = await add(east(CITIES.berlin, 300), { trust: 0.5 });
    const newcomer = await add(CITIES.berlin);
    let newcomerFirst = 0;
    for (let i = 0; i < 2000; i++) {
      const list = placement.candidates({ location: CITIES.berlin, model: 'm' });
      if (list[0]!.node.id === newcomer.id) newcomerFirst++;
      expect(list).toHaveLength(2);
    }
    expect(newcomerFirst / 2000).toBeLessThan(0.15);
    expect(newcomerFirst).toBeGreaterThan(0);
    expect(placement.getTrust(newcomer.id).probation).toBe(true);
    placement.setTrust(newcomer.id, 0.9);
    expect(firstOf({ location: CITIES.berlin, model: 'm' })).toBe(newcomer.id);
    expect(veteran).toBeDefined();
  });

  it('keeps an eu request in the EU: Frankfurt may serve it, Zürich and London may not', async () => {
    const zurich = await add(CITIES.zurich, { verified: true });
    const london = await add(CITIES.london, { verified: true });
    const frankfurt = await add(CITIES.frankfurt, { verified: true });
    expect(
      ids(placement.candidates({ location: CITIES.zurich, model: 'm', policy: { region: 'eu' } })),
    ).toEqual([frankfurt.id]);
    expect(
      ids(placement.candidates({ location: CITIES.london, model: 'm', policy: { region: 'GB' } })),
    ).toEqual([london.id]);
    expect(
      ids(placement.candidates({ location: CITIES.zurich, model: 'm', policy: { region: 'Europe' } })),
    ).toContain(zurich.id);
  });

  it('serves region- and trust-bound requests only from verified locations', async () => {
    const unverified = await add(CITIES.frankfurt, { trust: 1 });
    expect(
      placement.candidates({ location: CITIES.frankfurt, model: 'm', policy: { region: 'DE' } }),
    ).toEqual([]);
    expect(
      placement.candidates({ location: CITIES.frankfurt, model: 'm', policy: { minTrust: 0.5 } }),
    ).toEqual([]);
    expect(ids(placement.candidates({ location: CITIES.frankfurt, model: 'm' }))).toEqual([unverified.id]);
    placement.markLocationVerified(unverified.id);
    expect(
      ids(
        placement.candidates({
          location: CITIES.frankfurt,
          model: 'm',
          policy: { region: 'DE', minTrust: 0.5 },
        }),
      ),
    ).toEqual([unverified.id]);
  });

  it('routes no request to a node the oracle scored below the trust floor, whatever the policy', async () => {
    const caught = await add(CITIES.paris, { trust: 0.05, verified: true });
    const farther = await add(east(CITIES.paris, 300));
    expect(ids(placement.candidates({ location: CITIES.paris, model: 'm' }))).toEqual([farther.id]);
    expect(
      ids(placement.candidates({ location: CITIES.paris, model: 'm', policy: { minTrust: 0 } })),
    ).toEqual([]);
    placement.setTrust(caught.id, 0.6);
    expect(ids(placement.candidates({ location: CITIES.paris, model: 'm' }))).toContain(caught.id);
  });

  it('applies minTrust', async () => {
    const low = await add(CITIES.paris, { trust: 0.3, verified: true });
    const high = await add(east(CITIES.paris, 50), { trust: 0.8, verified: true });
    expect(
      ids(placement.candidates({ location: CITIES.paris, model: 'm', policy: { minTrust: 0.5 } })),
    ).toEqual([high.id]);
    expect(ids(placement.candidates({ location: CITIES.paris, model: 'm' }))).toContain(low.id);
  });

  it('counts a node on probation as unknown, not as the default: it meets no minTrust, however low', async () => {
    const fresh = await add(CITIES.paris, { verified: true });
    expect(placement.getTrust(fresh.id)).toMatchObject({ probation: true });
    expect(placement.candidates({ location: CITIES.paris, model: 'm', policy: { minTrust: 0 } })).toEqual([]);
    expect(ids(placement.candidates({ location: CITIES.paris, model: 'm' }))).toEqual([fresh.id]);
    placement.setTrust(fresh.id, 0.3);
    expect(
      ids(placement.candidates({ location: CITIES.paris, model: 'm', policy: { minTrust: 0.2 } })),
    ).toEqual([fresh.id]);
  });

  it('takes a verified location back when the oracle finds the current claim not verified', async () => {
    const node = await add(CITIES.frankfurt, { trust: 0.9, verified: true });
    expect(
      ids(placement.candidates({ location: CITIES.frankfurt, model: 'm', policy: { region: 'DE' } })),
    ).toEqual([node.id]);
    placement.markLocationUnverified(node.id);
    expect(
      placement.candidates({ location: CITIES.frankfurt, model: 'm', policy: { region: 'DE' } }),
    ).toEqual([]);
    expect(() => placement.markLocationUnverified('nobody')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_NODE' }),
    );
  });

  it('puts accelerated nodes first for a model that prefers one, and falls back to CPU nodes', async () => {
    const wants = { ...MODEL, prefersAccelerator: true };
    const cpu = await add(CITIES.paris, { models: [{ ...wants, executionProvider: 'cpu' }] });
    expect(ids(placement.candidates({ location: CITIES.paris, model: 'm' }))).toEqual([cpu.id]);
    const gpu = await add(east(CITIES.paris, 300), {
      models: [{ ...wants, executionProvider: 'cuda' }],
      hardware: { cpuCores: 8, memoryMb: 16_384, executionProviders: ['cuda', 'cpu'] },
    });
    for (let i = 0; i < 20; i++)
      expect(ids(placement.candidates({ location: CITIES.paris, model: 'm' }))).toEqual([gpu.id, cpu.id]);
  });

  it('counts WebGPU (onnxruntime-node over Dawn: Vulkan, D3D12 or Metal) as an accelerator', async () => {
    const wants = { ...MODEL, prefersAccelerator: true };
    const cpu = await add(CITIES.paris, { models: [{ ...wants, executionProvider: 'cpu' }] });
    const webgpu = await add(east(CITIES.paris, 300), {
      models: [{ ...wants, executionProvider: 'webgpu' }],
      hardware: { cpuCores: 8, memoryMb: 16_384, executionProviders: ['webgpu', 'cpu'] },
    });
    expect(ids(placement.candidates({ location: CITIES.paris, model: 'm' }))).toEqual([webgpu.id, cpu.id]);
  });

  it('uses a node still loading the model only when the deadline covers the load', async () => {
    const loading = await add(CITIES.paris, { models: [{ ...MODEL, ready: false, sizeBytes: 1_250_000 }] });
    expect(placement.candidates({ location: CITIES.paris, model: 'm' })).toEqual([]);
    expect(placement.candidates({ location: CITIES.paris, model: 'm', policy: { deadlineMs: 200 } })).toEqual(
      [],
    );
    const list = placement.candidates({ location: CITIES.paris, model: 'm', policy: { deadlineMs: 5000 } });
    expect(ids(list)).toEqual([loading.id]);
    expect(list[0]!.model.ready).toBe(false);
    expect(list[0]!.predictedLatencyMs).toBeGreaterThan(600); // 500 ms session + 100 ms fetch + network + service
  });

  it('bounds by maxLatencyMs', async () => {
    await add(CITIES.paris);
    const near = await add(CITIES.berlin);
    const list = placement.candidates({ location: CITIES.berlin, model: 'm', policy: { maxLatencyMs: 40 } });
    expect(ids(list)).toEqual([near.id]);
  });

  it('weighs asking price by policy.prefer', async () => {
    const dear = await add(CITIES.berlin, { pricePerRequest: 10 });
    const cheap = await add(east(CITIES.berlin, 150), { pricePerRequest: 1 });
    expect(firstOf({ location: CITIES.berlin, model: 'm', policy: { prefer: 'latency' } })).toBe(dear.id);
    expect(firstOf({ location: CITIES.berlin, model: 'm', policy: { prefer: 'price' } })).toBe(cheap.id);
  });

  it('excludes draining and silent nodes and returns at most k', async () => {
    const a = await add(CITIES.berlin);
    const b = await add(east(CITIES.berlin, 10));
    const c = await add(east(CITIES.berlin, 20));
    await add(east(CITIES.berlin, 30));
    expect(placement.candidates({ location: CITIES.berlin, model: 'm', k: 2 })).toHaveLength(2);
    await placement.registry.heartbeat(await heartbeat(a, { issuedAtMs: now, draining: true }));
    expect(ids(placement.candidates({ location: CITIES.berlin, model: 'm', k: 4 }))).not.toContain(a.id);
    now += 25_000;
    for (const n of [a, b]) await placement.registry.heartbeat(await heartbeat(n, { issuedAtMs: now }));
    now += 10_000; // c and the fourth: 35 s silent > 3 × 10 s
    expect(ids(placement.candidates({ location: CITIES.berlin, model: 'm', k: 4 })).sort()).toEqual(
      [a.id, b.id].sort(),
    );
    expect(c).toBeDefined();
  });
});

describe('Placement bad input', () => {
  let store: MemoryNodeStore;
  let placement: Placement;
  let node: TestNode;
  beforeEach(async () => {
    store = new MemoryNodeStore();
    placement = new Placement({ heartbeatIntervalMs: 10_000, now: () => T0, store });
    node = await newTestNode();
    await placement.registry.register(await registration(node, { issuedAtMs: T0, location: CITIES.paris }));
  });

  it.each([
    ['lat out of range', { location: { lat: 91, lng: 0 }, model: 'm' }, 'INVALID_LOCATION', '91'],
    [
      'lng not finite',
      { location: { lat: 0, lng: Number.POSITIVE_INFINITY }, model: 'm' },
      'INVALID_LOCATION',
      'Infinity',
    ],
    ['lat NaN', { location: { lat: Number.NaN, lng: 0 }, model: 'm' }, 'INVALID_LOCATION', 'NaN'],
    [
      'invalid H3 cell',
      { location: { cell: '8fffffffffffffff' }, model: 'm' },
      'INVALID_CELL',
      '8fffffffffffffff',
    ],
    ['k = 0', { location: CITIES.paris, model: 'm', k: 0 }, 'INVALID_REQUEST', 'got 0'],
    ['k negative', { location: CITIES.paris, model: 'm', k: -3 }, 'INVALID_REQUEST', 'got -3'],
    ['k absurd', { location: CITIES.paris, model: 'm', k: 1e9 }, 'INVALID_REQUEST', '1000000000'],
    ['k fractional', { location: CITIES.paris, model: 'm', k: 1.5 }, 'INVALID_REQUEST', '1.5'],
    [
      'unknown region',
      { location: CITIES.paris, model: 'm', policy: { region: 'XX' } },
      'INVALID_REQUEST',
      '"XX"',
    ],
    [
      'minTrust above 1',
      { location: CITIES.paris, model: 'm', policy: { minTrust: 2 } },
      'INVALID_REQUEST',
      'minTrust',
    ],
    [
      'unknown policy key',
      { location: CITIES.paris, model: 'm', policy: { fastest: true } },
      'INVALID_REQUEST',
      'policy',
    ],
  ])('refuses %s with a clear error and records no demand', (_name, query, code, mention) => {
    let error: unknown;
    try {
      placement.candidates(query as Parameters<Placement['candidates']>[0]);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ name: 'HexEdgeError', code });
    expect((error as Error).message).toContain(mention);
    placement.checkpoint();
    expect(store.demand).toEqual([]);
  });

  it('validates nearest() the same way', () => {
    expect(() => placement.nearest({ location: CITIES.paris, k: 0 })).toThrow(/k must be/);
    expect(() => placement.nearest({ location: { lat: 0, lng: 200 }, k: 1 })).toThrow(/lng/);
    expect(placement.nearest({ location: { cell: '871faeaa9ffffff' }, k: 1 })).toHaveLength(1);
  });

  it('refuses bad trust scores and outcomes, changing nothing', () => {
    expect(() => placement.setTrust(node.id, 1.5)).toThrow(/\[0, 1\]/);
    expect(() => placement.setTrust(node.id, Number.NaN)).toThrow(/NaN/);
    expect(() => placement.setTrust('nobody', 0.5)).toThrow(/nobody/);
    expect(store.trust.size).toBe(0);
    expect(() => placement.reportOutcome({ nodeId: node.id, model: 'm', latencyMs: -1, ok: true })).toThrow(
      /latencyMs/,
    );
    expect(() => placement.markLocationVerified('nobody')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_NODE' }),
    );
  });

  it('lists models it has heard of', () => {
    expect(placement.isKnownModel('m')).toBe(true);
    expect(placement.isKnownModel('m', '2')).toBe(false);
    expect(contentId('b')).toHaveLength(64);
  });
});
