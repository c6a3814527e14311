import { describe, expect, it } from 'vitest';
import { CITIES, heartbeat, newTestNode, registration, T0 } from '../test/signed-messages.ts';
import { EVICT_AFTER_SILENT_MS, MIN_LOCATION_CHANGE_INTERVAL_MS, NodeRegistry } from './node-registry.ts';
import { MemoryNodeStore } from './node-store.ts';

function setup(options: { store?: MemoryNodeStore } = {}) {
  const clock = { now: T0 };
  const store = options.store ?? new MemoryNodeStore();
  const removed: string[] = [];
  const registry = new NodeRegistry({ heartbeatIntervalMs: 10_000, now: () => clock.now, store, onRemove: (id) => removed.push(id) });
  return { clock, store, registry, removed };
}

/** The registry's and the store's view, to check that a refused message changed neither. */
const snapshot = (registry: NodeRegistry, store: MemoryNodeStore) => JSON.stringify([[...registry.values()], [...store.nodes.values()]]);

describe('node lifecycle', () => {
  it('goes unhealthy after 3 missed intervals and is evicted after 10 silent minutes', async () => {
    const { clock, registry, store, removed } = setup();
    const node = await newTestNode();
    const other = await newTestNode();
    await registry.register(await registration(node, { issuedAtMs: T0, location: CITIES.paris }));
    clock.now = T0 + 30_001;
    expect(registry.statusOf(registry.get(node.id)!)).toBe('unhealthy');
    expect(registry.evictSilent()).toEqual([]);
    clock.now = T0 + EVICT_AFTER_SILENT_MS + 1;
    expect(registry.evictSilent()).toEqual([node.id]);
    expect(registry.get(node.id)).toBeUndefined();
    expect(store.nodes.has(node.id)).toBe(false);
    expect(removed).toEqual([node.id]);
    // An evicted node's heartbeats are refused until it registers again.
    await expect(registry.heartbeat(await heartbeat(node, { issuedAtMs: clock.now }))).rejects.toMatchObject({ code: 'UNKNOWN_NODE' });
    await registry.register(await registration(node, { issuedAtMs: clock.now, location: CITIES.paris }));
    expect(registry.size).toBe(1);
    expect(other).toBeDefined();
  });

  it('sweeps silent nodes while handling other nodes’ messages', async () => {
    const { clock, registry } = setup();
    const quiet = await newTestNode();
    const chatty = await newTestNode();
    await registry.register(await registration(quiet, { issuedAtMs: T0, location: CITIES.paris }));
    await registry.register(await registration(chatty, { issuedAtMs: T0, location: CITIES.berlin }));
    for (let t = T0 + 10_000; t <= T0 + EVICT_AFTER_SILENT_MS + 70_000; t += 10_000) {
      clock.now = t;
      await registry.heartbeat(await heartbeat(chatty, { issuedAtMs: t }));
    }
    expect(registry.get(quiet.id)).toBeUndefined();
    expect(registry.get(chatty.id)).toBeDefined();
  });

  it('drains: a draining heartbeat stops new work, a later normal one resumes it', async () => {
    const { registry } = setup();
    const node = await newTestNode();
    await registry.register(await registration(node, { issuedAtMs: T0, location: CITIES.paris }));
    await registry.heartbeat(await heartbeat(node, { issuedAtMs: T0, draining: true }));
    expect(registry.statusOf(registry.get(node.id)!)).toBe('draining');
    await registry.heartbeat(await heartbeat(node, { issuedAtMs: T0 }));
    expect(registry.statusOf(registry.get(node.id)!)).toBe('healthy');
  });

  it('refuses a replayed heartbeat and changes nothing', async () => {
    const { registry, store } = setup();
    const node = await newTestNode();
    await registry.register(await registration(node, { issuedAtMs: T0, location: CITIES.paris }));
    const first = await heartbeat(node, { issuedAtMs: T0 });
    await registry.heartbeat(first);
    await registry.heartbeat(await heartbeat(node, { issuedAtMs: T0 }));
    const before = snapshot(registry, store);
    await expect(registry.heartbeat(first)).rejects.toMatchObject({ code: 'REPLAYED', message: expect.stringContaining('sequence 1') });
    expect(snapshot(registry, store)).toBe(before);
  });

  it('marks a moved node unverified until the oracle re-verifies, and rate-limits moves', async () => {
    const { clock, registry, store } = setup();
    const node = await newTestNode();
    await registry.register(await registration(node, { issuedAtMs: T0, location: CITIES.paris }));
    expect(registry.get(node.id)!.locationVerified).toBe(false);
    registry.markLocationVerified(node.id);
    // GPS jitter (a few metres) is not a move.
    clock.now += 1000;
    await registry.register(await registration(node, { issuedAtMs: clock.now, location: { lat: CITIES.paris.lat + 0.0001, lng: CITIES.paris.lng } }));
    expect(registry.get(node.id)!.locationVerified).toBe(true);
    expect(registry.get(node.id)!.location).toEqual(CITIES.paris);

    clock.now += 1000;
    await registry.register(await registration(node, { issuedAtMs: clock.now, location: CITIES.berlin }));
    const moved = registry.get(node.id)!;
    expect(moved.location).toEqual(CITIES.berlin);
    expect(moved.locationVerified).toBe(false);
    expect(moved.regions).toContain('DE');

    clock.now += 1000;
    const before = snapshot(registry, store);
    const error = await registry.register(await registration(node, { issuedAtMs: clock.now, location: CITIES.london })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining('51.5') });
    expect(snapshot(registry, store)).toBe(before);

    clock.now += MIN_LOCATION_CHANGE_INTERVAL_MS;
    await registry.register(await registration(node, { issuedAtMs: clock.now, location: CITIES.london }));
    expect(registry.get(node.id)!.regions).toContain('GB');
  });

  it('refuses unsigned, badly signed, unknown-node and stale messages, changing nothing', async () => {
    const { registry, store } = setup();
    const node = await newTestNode();
    const intruder = await newTestNode();
    const good = await registration(node, { issuedAtMs: T0, location: CITIES.paris });
    const cases: [unknown, string][] = [
      [{ body: good.body }, 'INVALID_REQUEST'],
      [{ ...good, signature: 'x' }, 'INVALID_REQUEST'],
      [{ ...good, signature: (await registration(intruder, { issuedAtMs: T0, location: CITIES.paris })).signature }, 'BAD_SIGNATURE'],
      [{ ...good, body: { ...good.body, location: { lat: 12, lng: 3 } } }, 'BAD_SIGNATURE'],
      [await registration(node, { issuedAtMs: T0, location: { lat: 95, lng: 0 } }), 'INVALID_LOCATION'],
      [await registration(node, { issuedAtMs: T0 - 120_000, location: CITIES.paris }), 'STALE_MESSAGE'],
      [await registration(node, { issuedAtMs: T0, location: CITIES.paris, pricePerRequest: -1 }), 'INVALID_REQUEST'],
    ];
    for (const [message, code] of cases) {
      await expect(registry.register(message)).rejects.toMatchObject({ name: 'HexEdgeError', code });
    }
    await expect(registry.heartbeat(await heartbeat(node, { issuedAtMs: T0 }))).rejects.toMatchObject({ code: 'UNKNOWN_NODE' });
    expect(registry.size).toBe(0);
    expect((store).nodes.size).toBe(0);

    await registry.register(good);
    const forged = await heartbeat(node, { issuedAtMs: T0 });
    forged.signature = (await heartbeat(intruder, { issuedAtMs: T0, seq: forged.body.seq })).signature;
    const before = snapshot(registry, store);
    await expect(registry.heartbeat(forged)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(registry.register(good)).rejects.toMatchObject({ code: 'REPLAYED' });
    expect(snapshot(registry, store)).toBe(before);
  });

  it('applies nothing in memory when the store write fails', async () => {
    const failing = new MemoryNodeStore();
    const { registry } = setup({ store: failing });
    const node = await newTestNode();
    await registry.register(await registration(node, { issuedAtMs: T0, location: CITIES.paris }));
    failing.saveNode = () => {
      throw new Error('disk full');
    };
    await expect(registry.heartbeat(await heartbeat(node, { issuedAtMs: T0 }))).rejects.toThrow('disk full');
    expect(registry.get(node.id)!.lastSeq).toBe(-1);
  });
});
