import { Placement } from '@hexedge/placement';
import type { ModelManifest } from '@hexedge/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGatewayApp } from '../src/index.ts';
import { MemoryModelCatalog } from '../src/catalog.ts';
import type { ObservedNodeFault } from '../src/infer/node-fault.ts';
import {
  BLACK_HOLE_TEXT,
  body,
  CONTENT_ID,
  fakeNode,
  fakeNodes,
  KEY,
  keyRing,
  register,
  type FakeNode,
} from './fake-nodes.ts';

/*
 * A black-hole node next to the caller that refuses every request with a 400 (in its own words): the
 * gateway must fail over to the honest node, count the refusals against the black hole (its circuit
 * opens), report them, and never hand the black hole's text to anyone.
 */
const manifest: ModelManifest = {
  name: 'm',
  version: '1',
  task: 'test',
  description: '',
  contentId: CONTENT_ID,
  sizeBytes: 1,
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
  batchable: true,
  quantization: { scheme: 'fp32' },
  tolerance: 1e-4,
  prefersAccelerator: false,
  license: 'test',
  source: 'test',
};

let placement: Placement;
let hole: FakeNode;
let honest: FakeNode;
let client: ReturnType<typeof fakeNodes>;
let faults: ObservedNodeFault[];

async function app(options: { catalogue: boolean }) {
  const catalog = new MemoryModelCatalog();
  if (options.catalogue) catalog.add(manifest, new Uint8Array([1]));
  faults = [];
  return createGatewayApp({
    placement,
    keys: await keyRing(),
    nodeClient: client,
    catalog,
    onNodeFault: (f) => faults.push(f),
  }).app;
}
const post = (a: Awaited<ReturnType<typeof app>>, b: string) =>
  a.request('/v1/infer', {
    method: 'POST',
    body: b,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
  });

beforeEach(async () => {
  placement = new Placement({ heartbeatIntervalMs: 60_000 });
  hole = await fakeNode('http://hole.test', 'blackhole');
  honest = await fakeNode('http://honest.test');
  await register(placement, hole, 52.3701, 4.9001); // ~10 m from the caller
  await register(placement, honest, 52.39, 4.93); // ~3 km
  client = fakeNodes([hole, honest]);
});

describe('a black-hole node (refuses every request the gateway validated)', () => {
  it('fails over to the honest node for every request, stops asking the black hole and reports it', async () => {
    const gateway = await app({ catalogue: true });
    const texts: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await post(gateway, body());
      texts.push(await res.text());
      expect(res.status, texts.at(-1)).toBe(200);
      expect((JSON.parse(texts.at(-1)!) as { node: { id: string } }).node.id).toBe(honest.keys.nodeId);
    }
    // Its refusals count in its score (and a streak opens its circuit): it is soon asked no more.
    const asked = client.calls.filter((u) => u === hole.url).length;
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(asked).toBeLessThanOrEqual(6);
    expect(faults).toHaveLength(asked);
    expect(
      faults.every((f) => f.nodeId === hole.keys.nodeId && f.kind === 'refused' && f.httpStatus === 400),
    ).toBe(true);
    expect(texts.join('\n')).not.toContain('SECRET');
  });

  it('refuses a request that does not fit the manifest itself, asking no node (honest nodes cannot be framed)', async () => {
    const gateway = await app({ catalogue: true });
    const res = await post(
      gateway,
      body({ inputs: [{ name: 'nope', datatype: 'FP32', shape: [1], data: [1] }] }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_TENSOR');
    expect(client.calls).toEqual([]);
    expect(faults).toEqual([]);
  });

  it('without a manifest to check against, judges the refusal by the other node: served there, it was the black hole’s fault', async () => {
    const gateway = await app({ catalogue: false });
    const res = await post(gateway, body());
    expect(res.status).toBe(200);
    expect(faults.map((f) => [f.nodeId, f.kind])).toEqual([[hole.keys.nodeId, 'refused']]);
  });

  it('answers INVALID_REQUEST in its own words, blaming no node, when every node refuses an unchecked request', async () => {
    honest.mode = 'blackhole';
    const gateway = await app({ catalogue: false });
    const res = await post(gateway, body());
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('INVALID_REQUEST');
    expect(text).not.toContain(BLACK_HOLE_TEXT);
    expect(faults).toEqual([]);
    expect(placement.isCircuitOpen(hole.keys.nodeId)).toBe(false);
  });
});
