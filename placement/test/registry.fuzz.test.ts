import fc from 'fast-check';
import { HexEdgeError, signBody } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { MemoryNodeStore, NodeRegistry } from '../src/index.ts';
import { CITIES, MODEL, newTestNode, registration, T0, type TestNode } from './signed-messages.ts';
import { assertNoPollution, bounded, corpusText, loadCorpus, maybeNasty, nastyJson, nastyNumber, shown, toJsonText, withinMs } from '@hexedge/protocol/testing';

/*
 * Property: `NodeRegistry.register` and `heartbeat` accept a message or refuse it with a HexEdgeError,
 * and a refused message leaves both the registry and its store exactly as they were. Messages are
 * signed for real after their fields are swapped for nasty values, so they get past the signature
 * check and reach the checks behind it.
 */

async function setup() {
  let now = T0;
  const store = new MemoryNodeStore();
  const registry = new NodeRegistry({ heartbeatIntervalMs: 10_000, now: () => now, store });
  const node = await newTestNode();
  await registry.register(await registration(node, { issuedAtMs: now, location: CITIES.amsterdam }));
  return { registry, store, node, tick: (ms: number) => (now += ms), nowMs: () => now };
}

const snapshot = (registry: NodeRegistry, store: MemoryNodeStore) => JSON.stringify({ nodes: [...registry.values()], store: [...store.nodes.values()] });

async function expectRefusedCleanly(run: () => Promise<unknown>, registry: NodeRegistry, store: MemoryNodeStore, context: string) {
  const before = snapshot(registry, store);
  try {
    await withinMs(2_000, context, run);
  } catch (err) {
    expect(err, `${context}: ${String(err)}`).toBeInstanceOf(HexEdgeError);
    expect(snapshot(registry, store), context).toBe(before);
  }
  assertNoPollution();
}

const model = fc.record({
  name: maybeNasty(fc.constantFrom('m', '__proto__', 'constructor')),
  version: maybeNasty(fc.constant('1')),
  contentId: maybeNasty(fc.constant(MODEL.contentId)),
  ready: maybeNasty(fc.boolean()),
  load: maybeNasty(fc.record({ queueDepth: maybeNasty(fc.nat()), inFlight: maybeNasty(fc.nat()), ewmaServiceMs: maybeNasty(nastyNumber) })),
  sizeBytes: maybeNasty(fc.nat()),
});
const registrationBody = fc.record({
  issuedAtMs: fc.oneof(fc.integer({ min: -120_000, max: 120_000 }).map((d) => ({ delta: d })), nastyJson),
  url: maybeNasty(fc.constantFrom('http://n.test', 'https://n.test:8443/x/', 'ftp://n.test', 'http://')),
  location: maybeNasty(fc.record({ lat: maybeNasty(fc.double({ min: -95, max: 95, noNaN: true })), lng: maybeNasty(fc.double({ min: -185, max: 185, noNaN: true })) })),
  hardware: maybeNasty(fc.record({ cpuCores: maybeNasty(fc.integer({ min: -1, max: 5000 })), memoryMb: maybeNasty(fc.integer()), executionProviders: maybeNasty(fc.array(fc.constantFrom('cpu', 'cuda', 'npu'), { maxLength: 8 })) })),
  models: maybeNasty(fc.array(model, { maxLength: 3 })),
  pricePerRequest: fc.option(nastyNumber, { nil: undefined }),
});
const heartbeatBody = fc.record({
  seq: fc.oneof(fc.integer({ min: -2, max: 5 }).map((d) => ({ delta: d })), nastyJson),
  issuedAtMs: fc.oneof(fc.integer({ min: -120_000, max: 120_000 }).map((d) => ({ delta: d })), nastyJson),
  models: maybeNasty(fc.array(model, { maxLength: 3 })),
  draining: fc.option(maybeNasty(fc.boolean()), { nil: undefined }),
});

/** Resolves `{ delta }` against a base, signs for real when canonical JSON can (else a made-up signature). */
async function sign(kind: 'registration' | 'heartbeat', node: TestNode, body: Record<string, unknown>, bases: Record<string, number>) {
  const resolved = Object.fromEntries(
    Object.entries(body)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, v !== null && typeof v === 'object' && 'delta' in v && Object.keys(v).length === 1 ? bases[k]! + (v as { delta: number }).delta : v]),
  );
  let full: Record<string, unknown>;
  try {
    // Through JSON text, so `__proto__` keys are own data and Raw leaves become values.
    full = JSON.parse(toJsonText({ ...resolved, nodeId: node.id })) as Record<string, unknown>;
  } catch {
    full = { ...resolved, nodeId: node.id };
  }
  try {
    return await signBody(kind, full as never, node.keys.privateKey);
  } catch {
    return { body: full, signature: 'A'.repeat(86) };
  }
}

describe('fuzz: NodeRegistry', () => {
  it('accepts or cleanly refuses any registration (signed for real), never half-applying it', async () => {
    const { registry, store, node, tick, nowMs } = await setup();
    const other = await newTestNode();
    await fc.assert(
      fc.asyncProperty(registrationBody, fc.boolean(), fc.integer({ min: 0, max: 4_000_000 }), async (body, asOther, advanceMs) => {
        tick(advanceMs);
        const who = asOther ? other : node;
        const signed = await sign('registration', who, body, { issuedAtMs: nowMs() });
        await expectRefusedCleanly(() => registry.register(signed), registry, store, shown(signed));
      }),
      bounded(200, 2_500),
    );
  });

  it('accepts or cleanly refuses any heartbeat (signed for real), and never goes back in sequence', async () => {
    const { registry, store, node, tick, nowMs } = await setup();
    await fc.assert(
      fc.asyncProperty(heartbeatBody, fc.integer({ min: 0, max: 30_000 }), async (body, advanceMs) => {
        tick(advanceMs);
        const lastSeq = registry.get(node.id)?.lastSeq ?? -1;
        const signed = await sign('heartbeat', node, body, { seq: lastSeq, issuedAtMs: nowMs() });
        await expectRefusedCleanly(() => registry.heartbeat(signed), registry, store, shown(signed));
        expect(registry.get(node.id)?.lastSeq ?? -1).toBeGreaterThanOrEqual(lastSeq);
      }),
      bounded(200, 2_000),
    );
  });

  it('refuses any unsigned junk with a HexEdgeError', async () => {
    const { registry, store } = await setup();
    await fc.assert(
      fc.asyncProperty(nastyJson, fc.boolean(), async (value, asHeartbeat) => {
        const parsed = JSON.parse(toJsonText(value)) as unknown;
        await expectRefusedCleanly(() => (asHeartbeat ? registry.heartbeat(parsed) : registry.register(parsed)), registry, store, shown(value));
      }),
      bounded(300, 1_000),
    );
  });

  it('replays the corpus of nastiest node messages', async () => {
    for (const c of loadCorpus(new URL('./corpus/node-messages.json', import.meta.url))) {
      const { registry, store, node, nowMs } = await setup();
      const body = JSON.parse(corpusText(c)) as Record<string, unknown>;
      const signed = await sign(c.kind as 'registration' | 'heartbeat', node, body, { issuedAtMs: nowMs(), seq: 0 });
      const before = snapshot(registry, store);
      const run = () => (c.kind === 'heartbeat' ? registry.heartbeat(signed) : registry.register(signed));
      if (c.code === undefined) {
        await run();
      } else {
        await expect(run(), c.name).rejects.toMatchObject({ code: c.code });
        expect(snapshot(registry, store), c.name).toBe(before);
      }
      assertNoPollution();
    }
  });
});
