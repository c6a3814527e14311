import { HexEdgeError } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { CITIES, heartbeat, newTestNode, registration, T0, type TestNode } from '../test/signed-messages.ts';
import { EVICT_AFTER_SILENT_MS, EVICTION_SWEEP_INTERVAL_MS } from './node-registry.ts';
import { MemoryNodeStore } from './node-store.ts';
import { Placement } from './placement.ts';
import { ProbationCap } from './probation-cap.ts';
import { seededRandom } from './random.ts';

function setup(options: { maxProbationNodes?: number; store?: MemoryNodeStore } = {}) {
  const clock = { nowMs: T0 };
  const store = options.store ?? new MemoryNodeStore();
  const placement = new Placement({
    heartbeatIntervalMs: 10_000,
    now: () => clock.nowMs,
    store,
    ...(options.maxProbationNodes !== undefined ? { maxProbationNodes: options.maxProbationNodes } : {}),
  });
  const register = async (node: TestNode, source?: string) =>
    placement.registry.register(
      await registration(node, { issuedAtMs: clock.nowMs, location: CITIES.paris }),
      source !== undefined ? { source } : {},
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

describe('a full probation cap is shared fairly between sources', () => {
  it('a newcomer from another source takes the slot of the biggest source’s oldest node', async () => {
    const { placement, store, register } = setup({ maxProbationNodes: 4 });
    const flood = await nodes(4);
    for (const n of flood) await register(n, '2001:db8:bad::/48');
    const [honest, second, third] = await nodes(3);
    await register(honest!, '198.51.100.7');
    // The flood's oldest node made room: evicted from memory and the store.
    expect(placement.registry.get(flood[0]!.id)).toBeUndefined();
    expect(store.nodes.has(flood[0]!.id)).toBe(false);
    expect(placement.registry.get(honest!.id)).toBeDefined();
    expect(placement.probationNodeCount).toBe(4);
    // Shares converge: 3 against 1 gives way again, 2 against 2 does not.
    await register(second!, '198.51.100.7');
    expect(placement.registry.get(flood[1]!.id)).toBeUndefined();
    const refused = await refusalOf(register(third!, '198.51.100.7'));
    expect(refused?.code).toBe('OVERLOADED');
    expect(refused?.message).toContain('2 of them came from this node');
    expect(placement.registry.get(flood[2]!.id)).toBeDefined();
    expect(placement.registry.get(flood[3]!.id)).toBeDefined();
  });

  it('a restart keeps each restored node under the source it registered from (an honest node is not the flood’s to evict)', async () => {
    const store = new MemoryNodeStore();
    const first = setup({ maxProbationNodes: 4, store });
    const [honest, ...flood] = await nodes(4);
    await first.register(honest!, '198.51.100.7');
    for (const n of flood) await first.register(n, '2001:db8:bad::/48');
    const second = setup({ maxProbationNodes: 4, store });
    expect(second.placement.probationNodeCount).toBe(4);
    // The flooder comes back from a fresh /48: the biggest source restored is its own, so it displaces
    // its own oldest, never the honest node (all restored under one "unknown" source, it took the honest one).
    const newcomer = await newTestNode();
    await second.register(newcomer, '2001:db8:bad2::/48');
    expect(second.placement.registry.get(honest!.id)).toBeDefined();
    expect(second.placement.registry.get(flood[0]!.id)).toBeUndefined();
  });

  it('a registration refused after admission (a move too soon) evicts nobody', async () => {
    const { clock, placement } = setup({ maxProbationNodes: 2 });
    const [mover, f1, f2] = await nodes(3);
    const at = async (node: TestNode, location: (typeof CITIES)[keyof typeof CITIES], source: string) =>
      placement.registry.register(await registration(node, { issuedAtMs: clock.nowMs, location }), {
        source,
      });
    await at(mover!, CITIES.paris, 'other');
    clock.nowMs += 1_000;
    await at(mover!, CITIES.berlin, 'other'); // a move: the next one waits an hour
    clock.nowMs += EVICT_AFTER_SILENT_MS + 1;
    expect(placement.evictSilent()).toEqual([mover!.id]);
    await at(f1!, CITIES.paris, 'flood');
    await at(f2!, CITIES.paris, 'flood');
    // Admission would give the mover a flood node's slot, but its move back is refused: nobody leaves.
    const refused = await refusalOf(at(mover!, CITIES.paris, 'other'));
    expect(refused?.code).toBe('RATE_LIMITED');
    expect(placement.registry.get(f1!.id)).toBeDefined();
    expect(placement.registry.get(f2!.id)).toBeDefined();
    expect(placement.probationNodeCount).toBe(2);
  });

  it('the flooding source cannot displace anyone, itself included', async () => {
    const { placement, register } = setup({ maxProbationNodes: 3 });
    const [a, b, c, more] = await nodes(4);
    await register(a!, 'flood');
    await register(b!, 'flood');
    await register(c!, 'other');
    expect((await refusalOf(register(more!, 'flood')))?.code).toBe('OVERLOADED');
    expect(placement.registry.size).toBe(3);
  });

  it('never evicts a node with standing to make room', async () => {
    const { placement, register } = setup({ maxProbationNodes: 2 });
    const [scored, a, b, c] = await nodes(4);
    placement.setTrust(scored!.id, 0.9);
    for (const n of [scored!, a!, b!]) await register(n, 'flood');
    await register(c!, 'other');
    expect(placement.registry.get(scored!.id)).toBeDefined();
    expect(placement.registry.get(a!.id)).toBeUndefined();
    expect(placement.registry.get(c!.id)).toBeDefined();
  });
});

describe('ProbationCap keeps each source’s share and the largest one as nodes come and go', () => {
  it('agrees with a recount after every step of 5 000 random admissions, scorings and departures', () => {
    const random = seededRandom(5);
    const cap = new ProbationCap({ max: 40 });
    const held = new Map<string, string>(); // node → source, the reference
    const sources = ['a', 'b', 'c', 'd', 'e', 'f'];
    let next = 0;
    for (let step = 0; step < 5_000; step++) {
      const roll = random();
      if (roll < 0.55) {
        const nodeId = `n${next++}`;
        const source = sources[Math.floor(random() * (1 + (step % sources.length)))]!;
        try {
          const { evict } = cap.admitNew(nodeId, { onProbation: true, source });
          if (evict !== undefined) {
            // The victim comes from a source holding the most, and not from the newcomer's.
            const counts = new Map<string, number>();
            for (const s of held.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
            expect(counts.get(held.get(evict)!)).toBe(Math.max(...counts.values()));
            expect(held.get(evict)).not.toBe(source);
            cap.forget(evict);
            held.delete(evict);
          }
          cap.noteNode(nodeId, true);
          held.set(nodeId, source);
        } catch {
          expect(held.size).toBe(40);
        }
      } else if (held.size > 0) {
        const ids = [...held.keys()];
        const gone = ids[Math.floor(random() * ids.length)]!;
        // Scored (noteNode with standing) or left (forget): both free the slot.
        if (roll < 0.8) cap.noteNode(gone, false);
        else cap.forget(gone);
        held.delete(gone);
      }
      const counts = new Map<string, number>();
      for (const s of held.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
      expect(cap.count).toBe(held.size);
      expect(cap.largestShare).toBe(Math.max(0, ...counts.values()));
      for (const s of sources) expect(cap.heldBy(s)).toBe(counts.get(s) ?? 0);
    }
  });
});
