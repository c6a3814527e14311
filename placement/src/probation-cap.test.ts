import { HexEdgeError } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { CITIES, heartbeat, newTestNode, registration, T0, type TestNode } from '../test/signed-messages.ts';
import { EVICT_AFTER_SILENT_MS, EVICTION_SWEEP_INTERVAL_MS } from './node-registry.ts';
import { MemoryNodeStore } from './node-store.ts';
import { Placement } from './placement.ts';

function setup(options: { maxProbationNodes?: number; store?: MemoryNodeStore } = {}) {
  const clock = { nowMs: T0 };
  const store = options.store ?? new MemoryNodeStore();
  const placement = new Placement({
    heartbeatIntervalMs: 10_000,
    now: () => clock.nowMs,
    store,
    ...(options.maxProbationNodes !== undefined ? { maxProbationNodes: options.maxProbationNodes } : {}),
  });
  const register = async (node: TestNode) =>
    placement.registry.register(
      await registration(node, { issuedAtMs: clock.nowMs, location: CITIES.paris }),
    );
  return { clock, store, placement, register };
}

const nodes = (count: number) => Promise.all(Array.from({ length: count }, () => newTestNode()));

/** The refusal a registration got, or undefined when it was accepted. */
async function refusalOf(attempt: Promise<unknown>): Promise<HexEdgeError | undefined> {
  try {
    await attempt;
    return undefined;
  } catch (err) {
    if (err instanceof HexEdgeError) return err;
    throw err;
  }
}

describe('the cap on nodes without standing (probation)', () => {
  it('refuses a fresh identity once the cap is full, naming the limit, and changes nothing', async () => {
    const { placement, store, register } = setup({ maxProbationNodes: 3 });
    const [a, b, c, d] = await nodes(4);
    for (const n of [a!, b!, c!]) await register(n);
    expect(placement.probationNodeCount).toBe(3);
    const refused = await refusalOf(register(d!));
    expect(refused?.code).toBe('OVERLOADED');
    expect(refused?.httpStatus).toBe(503);
    expect(refused?.message).toContain('maxProbationNodes 3');
    expect(refused?.message).toContain(d!.id);
    expect(refused?.details).toMatchObject({
      maxProbationNodes: 3,
      retryAfterMs: EVICTION_SWEEP_INTERVAL_MS,
    });
    expect(placement.registry.get(d!.id)).toBeUndefined();
    expect(store.nodes.has(d!.id)).toBe(false);
    expect(placement.registry.size).toBe(3);
    expect(placement.probationNodeCount).toBe(3);
  });

  it('still takes registrations and heartbeats of nodes already in, at the cap', async () => {
    const { clock, placement, register } = setup({ maxProbationNodes: 2 });
    const [a, b] = await nodes(2);
    await register(a!);
    await register(b!);
    clock.nowMs += 1_000;
    await register(a!);
    await placement.registry.heartbeat(await heartbeat(b!, { issuedAtMs: clock.nowMs }));
    expect(placement.probationNodeCount).toBe(2);
  });

  it('never counts nor refuses a node with standing, and frees a slot when a node earns it', async () => {
    const { placement, register } = setup({ maxProbationNodes: 2 });
    const [a, b, c, scored] = await nodes(4);
    // A scored node that left and comes back (its trust is kept) is not on probation.
    placement.setTrust(scored!.id, 0.9);
    await register(a!);
    await register(b!);
    await register(scored!);
    expect(placement.registry.size).toBe(3);
    expect(placement.probationNodeCount).toBe(2);
    expect((await refusalOf(register(c!)))?.code).toBe('OVERLOADED');
    // The oracle scores a: it has standing now, and c fits.
    placement.setTrust(a!.id, 0.8);
    expect(placement.probationNodeCount).toBe(1);
    await register(c!);
    expect(placement.probationNodeCount).toBe(2);
    // Nobody was evicted to make room: every node with standing is still there.
    expect(placement.registry.get(scored!.id)).toBeDefined();
    expect(placement.registry.get(a!.id)).toBeDefined();
  });

  it('frees the slot of a probation node that fell silent and was evicted', async () => {
    const { clock, placement, register } = setup({ maxProbationNodes: 1 });
    const [a, b] = await nodes(2);
    await register(a!);
    expect((await refusalOf(register(b!)))?.code).toBe('OVERLOADED');
    clock.nowMs += EVICT_AFTER_SILENT_MS + 1;
    expect(placement.evictSilent()).toEqual([a!.id]);
    expect(placement.probationNodeCount).toBe(0);
    await register(b!);
    expect(placement.registry.get(b!.id)).toBeDefined();
  });

  it('counts the nodes restored from the store: a restart does not reopen the cap', async () => {
    const store = new MemoryNodeStore();
    const first = setup({ maxProbationNodes: 2, store });
    const [a, b, c] = await nodes(3);
    await first.register(a!);
    await first.register(b!);
    first.placement.setTrust(b!.id, 0.7);
    await first.register(c!);
    const second = setup({ maxProbationNodes: 2, store });
    expect(second.placement.probationNodeCount).toBe(2);
    expect((await refusalOf(second.register(await newTestNode())))?.code).toBe('OVERLOADED');
  });

  it('has no cap unless one is given (the deployables set one from their config)', async () => {
    const { placement, register } = setup();
    for (const n of await nodes(5)) await register(n);
    expect(placement.probationNodeCount).toBe(5);
  });

  it('refuses a cap that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => setup({ maxProbationNodes: bad })).toThrow(/maxProbationNodes/);
  });
});
