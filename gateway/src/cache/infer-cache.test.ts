import {
  modelManifestSchema,
  type InferRequest,
  type InferResponse,
  type NodeModel,
  type Tensor,
} from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { InferCache, type CacheOutcome } from './infer-cache.ts';

const CONTENT_V1 = 'a'.repeat(64);
const CONTENT_V2 = 'b'.repeat(64);
const manifest = (contentId: string, version: string, batchable = true) =>
  modelManifestSchema.parse({
    name: 'm',
    version,
    task: 't',
    contentId,
    sizeBytes: 1,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
    batchable,
    license: 'MIT',
    source: 'test',
  });
const manifests = new Map([
  [CONTENT_V1, manifest(CONTENT_V1, '1')],
  [CONTENT_V2, manifest(CONTENT_V2, '2')],
]);
const entry = (contentId: string, version: string): NodeModel => ({
  name: 'm',
  version,
  contentId,
  ready: true,
});
const inputs: Tensor[] = [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }];
const request: InferRequest = {
  model: 'm',
  location: { lat: 0, lng: 0 },
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }],
};

async function answer(o: {
  nodeId: string;
  contentId: string;
  version: string;
  id: string;
  cache: InferCache;
}): Promise<InferResponse> {
  // The input digest the node would sign: the cache computes the same one for its key.
  const { tensorsDigest } = await import('@hexedge/protocol');
  return {
    id: o.id,
    model_name: 'm',
    model_version: o.version,
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [3] }],
    node: { id: o.nodeId, cell: 'c', distanceKm: 1 },
    timing: { placementMs: 1, nodeMs: 2, totalMs: 3 },
    receipt: {
      body: {
        nodeId: o.nodeId,
        requestId: o.id,
        modelName: 'm',
        modelVersion: o.version,
        modelContentId: o.contentId,
        inputDigest: await tensorsDigest(inputs),
        outputDigest: 'f'.repeat(64),
        issuedAtMs: 1,
        serviceTimeMs: 1,
      },
      signature: 's'.repeat(86),
      metadata: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    },
  };
}

function setup(limits: Record<string, number> = {}) {
  let nowMs = 1_000;
  const lookups: CacheOutcome[] = [];
  const evictions: string[] = [];
  const cache = new InferCache({
    limits,
    now: () => nowMs,
    onLookup: (o) => lookups.push(o),
    onEvict: (r) => evictions.push(r),
  });
  const look = (o: {
    tenant?: string;
    candidates?: { node: { id: string }; model: NodeModel }[];
    read?: boolean;
    write?: boolean;
    id?: string;
    req?: InferRequest;
  }) =>
    cache.lookup({
      tenant: o.tenant ?? 'key:a',
      use: { read: o.read ?? true, write: o.write ?? true },
      request: o.req ?? request,
      inputs: (o.req ?? request).inputs?.map((t) => ({ ...t, data: t.data as number[] })) as Tensor[] | undefined,
      candidates: o.candidates ?? [{ node: { id: 'n1' }, model: entry(CONTENT_V1, '1') }],
      manifestOf: (id) => manifests.get(id),
      requestId: o.id ?? 'r2',
      startedMs: performance.now(),
    });
  const fill = async (tenant = 'key:a', nodeId = 'n1', id = 'r1') => {
    const miss = await look({ tenant });
    expect(miss.outcome).toBe('miss');
    expect(
      cache.store(miss.slot!, await answer({ nodeId, contentId: CONTENT_V1, version: '1', id, cache })),
    ).toBe(true);
  };
  return { cache, look, fill, lookups, evictions, advance: (ms: number) => (nowMs += ms) };
}

describe('InferCache', () => {
  it('answers a repeat with the original answer and receipt, re-addressed and marked cached, without the old trace', async () => {
    const { look, fill, advance } = setup();
    await fill();
    advance(250);
    const hit = await look({ id: 'r2' });
    expect(hit.outcome).toBe('hit');
    expect(hit.hit!.id).toBe('r2');
    expect(hit.hit!.receipt.body.requestId).toBe('r1');
    expect(hit.hit!.cached).toEqual({ requestId: 'r1', storedAtMs: 1_000, ageMs: 250 });
    expect(hit.hit!.timing.nodeMs).toBe(0);
    expect(hit.hit!.receipt.metadata).toBeUndefined();
  });

  it("never serves one tenant's entry to another", async () => {
    const { look, fill } = setup();
    await fill('key:a');
    expect((await look({ tenant: 'key:b' })).outcome).toBe('miss');
    expect((await look({ tenant: 'device:a' })).outcome).toBe('miss');
    expect((await look({ tenant: 'key:a' })).outcome).toBe('hit');
  });

  it('is a miss (and drops the entry) once the signing node is no longer a candidate: trust revoked, unhealthy, gone', async () => {
    const { look, fill, evictions, cache } = setup();
    await fill('key:a', 'n1');
    const other = [{ node: { id: 'n2' }, model: entry(CONTENT_V1, '1') }];
    expect((await look({ candidates: other })).outcome).toBe('miss');
    expect(evictions).toEqual(['invalid']);
    expect(cache.entries).toBe(0);
  });

  it('is a miss when the model that would serve is another version (other bytes), or the node no longer announces these bytes', async () => {
    const { look, fill } = setup();
    await fill();
    expect(
      (await look({ candidates: [{ node: { id: 'n1' }, model: entry(CONTENT_V2, '2') }] })).outcome,
    ).toBe('miss');
    // n1 now announces version 1 under other bytes: the entry it signed is not served.
    expect(
      (
        await look({
          candidates: [
            { node: { id: 'n2' }, model: entry(CONTENT_V1, '1') },
            { node: { id: 'n1' }, model: entry(CONTENT_V2, '1') },
          ],
        })
      ).outcome,
    ).toBe('miss');
  });

  it('keys on the requested outputs and the inputs', async () => {
    const { look, fill } = setup();
    await fill();
    expect((await look({ req: { ...request, outputs: [{ name: 'y' }] } })).outcome).toBe('miss');
    expect(
      (
        await look({
          req: { ...request, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.25] }] },
        })
      ).outcome,
    ).toBe('miss');
  });

  it('expires entries after ttlMs and evicts the least recently used past maxEntries', async () => {
    const { look, fill, advance, evictions } = setup({ ttlMs: 1_000, maxEntries: 1 });
    await fill('key:a');
    advance(999);
    expect((await look({})).outcome).toBe('hit');
    advance(1);
    expect((await look({})).outcome).toBe('miss');
    expect(evictions).toEqual(['expired']);
    await fill('key:a');
    await fill('key:b');
    expect(evictions).toEqual(['expired', 'lru']);
    expect((await look({ tenant: 'key:a' })).outcome).toBe('miss');
    expect((await look({ tenant: 'key:b' })).outcome).toBe('hit');
  });

  it('bounds bytes and refuses an entry over maxEntryBytes', async () => {
    const small = setup({ maxEntryBytes: 256 });
    const miss = await small.look({});
    expect(
      small.cache.store(
        miss.slot!,
        await answer({ nodeId: 'n1', contentId: CONTENT_V1, version: '1', id: 'r1', cache: small.cache }),
      ),
    ).toBe(false);
    expect(small.cache.entries).toBe(0);
    const tight = setup({ maxBytes: 1000 });
    await tight.fill('key:a');
    await tight.fill('key:b');
    expect(tight.cache.entries).toBe(1);
    expect(tight.cache.bytes).toBeLessThanOrEqual(1000);
    expect(tight.evictions).toContain('lru');
  });

  it('honours opt-outs: no read (no-cache) still stores; neither read nor write is a bypass', async () => {
    const { look, fill, cache } = setup();
    await fill();
    const noCache = await look({ read: false });
    expect(noCache.outcome).toBe('bypass');
    expect(noCache.slot).toBeDefined();
    const neither = await look({ read: false, write: false });
    expect(neither).toEqual({ outcome: 'bypass' });
    expect((await look({ write: false })).slot).toBeUndefined();
    expect(cache.entries).toBe(1);
  });

  it('never caches a stateful model, a model the catalogue does not list, or a request without a tenant', async () => {
    const { cache, lookups } = setup();
    const base = { use: { read: true, write: true }, request, inputs, requestId: 'r', startedMs: 0 };
    const stateful = await cache.lookup({
      ...base,
      tenant: 'key:a',
      candidates: [{ node: { id: 'n1' }, model: entry(CONTENT_V1, '1') }],
      manifestOf: () => manifest(CONTENT_V1, '1', false),
    });
    const unlisted = await cache.lookup({
      ...base,
      tenant: 'key:a',
      candidates: [{ node: { id: 'n1' }, model: entry('c'.repeat(64), '1') }],
      manifestOf: (id) => manifests.get(id),
    });
    const anonymous = await cache.lookup({
      ...base,
      tenant: undefined,
      candidates: [{ node: { id: 'n1' }, model: entry(CONTENT_V1, '1') }],
      manifestOf: (id) => manifests.get(id),
    });
    expect([stateful.outcome, unlisted.outcome, anonymous.outcome]).toEqual([
      'uncacheable',
      'uncacheable',
      'bypass',
    ]);
    expect(lookups).toEqual(['uncacheable', 'uncacheable', 'bypass']);
  });

  it('stores only what its lookup keyed: a receipt naming other bytes or another input is refused', async () => {
    const { cache, look } = setup();
    const miss = await look({});
    const wrong = await answer({ nodeId: 'n1', contentId: CONTENT_V2, version: '1', id: 'r1', cache });
    expect(cache.store(miss.slot!, wrong)).toBe(false);
    const otherInput = await answer({ nodeId: 'n1', contentId: CONTENT_V1, version: '1', id: 'r1', cache });
    otherInput.receipt.body.inputDigest = '0'.repeat(64);
    expect(cache.store(miss.slot!, otherInput)).toBe(false);
  });
});
