// The Worker build inside workerd (Miniflare): H3-sharded placement must behave exactly like the
// single-process Placement of the Node build, survive a restart, and expire silent nodes by alarm.
import { generateNodeKeyPair, greatCircleDistanceKm, signBody, type LatLng, type NodeKeyPair } from '@hexedge/protocol';
import { Placement } from '@hexedge/placement';
import { Validator } from '@seriousme/openapi-schema-validator';
import { minDistanceToCellKm, shardCellOf } from '@hexedge/placement/shards';
import { cellToBoundary, cellToLatLng, latLngToCell } from 'h3-js';
import type { Miniflare } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApp, KeyRing, MemoryKeyStore } from '../src/index.ts';
import { bundleWorker, startWorker } from './worker-harness.ts';

const KEY = 'worker-test-admin-key';
const MODEL = { name: 'm', version: '1', contentId: 'c'.repeat(64), ready: true };
const auth = { authorization: `Bearer ${KEY}` };

interface TestNode {
  keys: NodeKeyPair;
  location: LatLng;
  seq: number;
}

const registration = (n: TestNode, issuedAtMs = Date.now()) =>
  signBody(
    'registration',
    { nodeId: n.keys.nodeId, issuedAtMs, url: `http://${n.keys.nodeId.slice(0, 6).toLowerCase()}.test`, location: n.location, hardware: { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu' as const] }, models: [MODEL] },
    n.keys.privateKey,
  );
const heartbeat = (n: TestNode, seq = ++n.seq) => signBody('heartbeat', { nodeId: n.keys.nodeId, seq, issuedAtMs: Date.now(), models: [MODEL] }, n.keys.privateKey);

/** Deterministic points: clusters astride shard borders (a res-2 vertex near Frankfurt, one in Fiji on the antimeridian), plus spread. */
function testPoints(): LatLng[] {
  let seed = 7;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const frankfurtVertex = cellToBoundary(latLngToCell(50.11, 8.68, 2))[0]!;
  const centres: LatLng[] = [
    { lat: frankfurtVertex[0], lng: frankfurtVertex[1] },
    { lat: -17.5, lng: 179.9 }, // Fiji: shards on both sides of ±180°
    { lat: 65.5, lng: -179.8 }, // Chukotka
    { lat: 48.85, lng: 2.35 },
    { lat: 40.7, lng: -74.0 },
  ];
  const points: LatLng[] = [];
  for (const c of centres) {
    for (let i = 0; i < 50; i++) {
      let lng = c.lng + (rand() - 0.5) * 4;
      if (lng > 180) lng -= 360;
      if (lng < -180) lng += 360;
      points.push({ lat: c.lat + (rand() - 0.5) * 3, lng });
    }
  }
  return points;
}

describe('gateway Worker with H3-sharded placement (workerd)', () => {
  let bundle: ReturnType<typeof bundleWorker>;
  let mf: Miniflare;
  let persistDir: string;
  let nodes: TestNode[];
  let reference: Placement;
  let nodeApp: ReturnType<typeof createGatewayApp>['app'];
  const worker = (p: string, init?: RequestInit) => mf.dispatchFetch(`http://gw${p}`, init as never) as unknown as Promise<Response>;
  const post = (p: string, body: unknown) => worker(p, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const shardIds = async (cell: string) => ((await (await worker(`/__test/stats?cell=${cell}`)).json()) as { ids: string[] }).ids;

  beforeAll(async () => {
    bundle = bundleWorker(path.resolve(import.meta.dirname, 'worker-test-entry.ts'));
    persistDir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-worker-state-'));
    mf = startWorker({ scriptPath: bundle.scriptPath, shardClass: 'ClockedPlacementShard', persistDir, bindings: { HEXEDGE_API_KEY: KEY } });
    reference = new Placement({ heartbeatIntervalMs: 60_000, assumeLocationsVerified: true });
    const keys = new KeyRing({ store: new MemoryKeyStore() });
    await keys.adopt(KEY, { name: 'admin', role: 'admin' });
    nodeApp = createGatewayApp({ placement: reference, keys }).app;
    nodes = await Promise.all(testPoints().map(async (location) => ({ keys: await generateNodeKeyPair(), location, seq: 0 })));
    // The same signed registrations go to the Worker and to the single-process reference.
    const messages = await Promise.all(nodes.map((n) => registration(n)));
    for (let i = 0; i < messages.length; i += 16) {
      const batch = messages.slice(i, i + 16);
      const answers = await Promise.all(batch.map((m) => post('/v1/nodes/register', m)));
      for (const a of answers) expect(a.status, await a.clone().text()).toBe(200);
      for (const m of batch) await reference.registry.register(m);
    }
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
    bundle?.cleanup();
    if (persistDir) rmSync(persistDir, { recursive: true, force: true });
  });

  it('puts each registration and heartbeat in the shard of its res-2 cell', async () => {
    const sample = [nodes[0]!, nodes[60]!, nodes[160]!, nodes[210]!];
    for (const n of sample) {
      const cell = shardCellOf(n.location);
      expect(await shardIds(cell)).toContain(n.keys.nodeId);
      const res = await post('/v1/nodes/heartbeat', await heartbeat(n));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true, heartbeatIntervalMs: 60_000 });
    }
    const cells = new Set(nodes.map((n) => shardCellOf(n.location)));
    let held = 0;
    for (const cell of cells) held += (await shardIds(cell)).length;
    expect(held).toBe(nodes.length); // every node in exactly its own shard
    expect(cells.size).toBeGreaterThan(10);
  });

  it('answers nearest queries near shard borders and across the antimeridian like the single-process index', async () => {
    const queries: LatLng[] = [
      ...[0, 1, 2, 3, 4, 5].map((i) => ({ lat: cellToBoundary(latLngToCell(50.11, 8.68, 2))[i]![0], lng: cellToBoundary(latLngToCell(50.11, 8.68, 2))[i]![1] })),
      { lat: -17.5, lng: 180 },
      { lat: -17.5, lng: -179.99 },
      { lat: -16.9, lng: 179.2 },
      { lat: 65.5, lng: 180 },
      { lat: 65.2, lng: -179.5 },
      { lat: 0, lng: -150 }, // mid-Pacific: the nearest nodes are far away, in other shards
      { lat: 48.85, lng: 2.35 },
      { lat: 40.7, lng: -74.0 },
    ];
    const before = (await (await worker('/v1/placement/shards', { headers: auth })).json()) as { multiShardQueries: number };
    for (const q of queries) {
      for (const k of [1, 5, 20]) {
        const url = `/v1/nodes/nearest?lat=${q.lat}&lng=${q.lng}&k=${k}&model=m`;
        const fromWorker = await worker(url, { headers: auth });
        const fromNode = await nodeApp.request(url, { headers: auth });
        expect(fromWorker.status).toBe(200);
        expect(await fromWorker.json(), `${url}`).toEqual(await fromNode.json());
      }
    }
    const after = (await (await worker('/v1/placement/shards', { headers: auth })).json()) as { multiShardQueries: number; shards: number; resolution: number };
    expect(after.resolution).toBe(2);
    expect(after.multiShardQueries - before.multiShardQueries).toBeGreaterThan(10);
  });

  it('gives bad input the same status, code and message as the Node build', async () => {
    const stranger: TestNode = { keys: await generateNodeKeyPair(), location: { lat: 1, lng: 1 }, seq: 0 };
    const forged = await signBody('registration', { ...(await registration(stranger)).body, nodeId: nodes[0]!.keys.nodeId }, stranger.keys.privateKey);
    const replay = await heartbeat(nodes[1]!, 1_000);
    const cases: { path: string; init?: RequestInit }[] = [
      { path: '/v1/nodes/nearest?lat=91&lng=0', init: { headers: auth } },
      { path: '/v1/nodes/nearest?lat=abc&lng=0', init: { headers: auth } },
      { path: '/v1/nodes/nearest?lng=0', init: { headers: auth } },
      { path: '/v1/nodes/nearest?lat=1&lng=0&k=0', init: { headers: auth } },
      { path: '/v1/nodes/nearest?lat=1&lng=0' },
      { path: '/v1/nodes/register', init: { method: 'POST', body: '{not json' } },
      { path: '/v1/nodes/register', init: { method: 'POST', body: JSON.stringify({ body: { nodeId: 'x' }, signature: 'y' }) } },
      { path: '/v1/nodes/register', init: { method: 'POST', body: JSON.stringify(forged) } },
      { path: '/v1/nodes/register', init: { method: 'POST', body: JSON.stringify(await registration(stranger, Date.now() - 3_600_000)) } },
      { path: '/v1/nodes/heartbeat', init: { method: 'POST', body: JSON.stringify(await heartbeat(stranger)) } },
      { path: '/v1/nodes/unknown-node', init: { headers: auth } },
      { path: '/v1/infer', init: { method: 'POST', headers: auth, body: JSON.stringify({ model: 'nobody-serves-this', location: { lat: 1, lng: 1 }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }) } },
      { path: '/v1/infer', init: { method: 'POST', headers: auth, body: JSON.stringify({ model: 'm', location: { cell: 'zz' }, inputs: [] }) } },
    ];
    // The replay: the Worker and the reference saw the same heartbeats, so both refuse seq 1000's reuse.
    expect((await post('/v1/nodes/heartbeat', replay)).status).toBe(200);
    await reference.registry.heartbeat(replay);
    cases.push({ path: '/v1/nodes/heartbeat', init: { method: 'POST', body: JSON.stringify(replay) } });
    for (const c of cases) {
      const a = await worker(c.path, c.init);
      const b = await nodeApp.request(c.path, c.init);
      // Request ids differ, and so does the clock reading quoted in a stale-message error.
      const strip = (j: { error: { requestId?: string; message: string } }) => (delete j.error.requestId, (j.error.message = j.error.message.replace(/is \d+ ms from/, 'is N ms from')), j);
      expect({ status: a.status, ...strip((await a.json()) as never) }, `${c.init?.method ?? 'GET'} ${c.path}`).toEqual({ status: b.status, ...strip((await b.json()) as never) });
    }
  });

  it('serves the OpenAPI document of its own routes (zod-openapi under workerd), its shard route included', async () => {
    const doc = (await (await worker('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(doc.paths['/v1/placement/shards']).toHaveProperty('get');
    expect(doc.paths['/v1/infer']).toHaveProperty('post');
    // No dashboards, devices or oracle routes in the Worker build, so none in its document.
    expect(doc.paths['/v1/network/hexes']).toBeUndefined();
  });

  it('evicts a silent node from its shard by alarm', async () => {
    const lonely: TestNode = { keys: await generateNodeKeyPair(), location: { lat: -60, lng: -30 }, seq: 0 }; // South Atlantic
    expect((await post('/v1/nodes/register', await registration(lonely))).status).toBe(200);
    const cell = shardCellOf(lonely.location);
    expect(await shardIds(cell)).toEqual([lonely.keys.nodeId]);
    await worker(`/__test/advance?cell=${cell}&ms=${11 * 60_000}`); // past the 10-min eviction age
    const deadline = Date.now() + 10_000;
    while ((await shardIds(cell)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await shardIds(cell)).toEqual([]);
    const hb = await post('/v1/nodes/heartbeat', await heartbeat(lonely));
    expect(hb.status).toBe(404);
    expect(((await hb.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_NODE');
  });

  it('moves a node to the shard of its new place, keeping its sequence numbers', async () => {
    const mover = nodes[200]!; // New York cluster
    const from = shardCellOf(mover.location);
    expect((await post('/v1/nodes/heartbeat', await heartbeat(mover))).status).toBe(200);
    const to = { lat: 34.05, lng: -118.24 }; // Los Angeles
    const moved = await signBody('registration', { ...(await registration(mover)).body, issuedAtMs: Date.now() + 1, location: to }, mover.keys.privateKey);
    expect((await post('/v1/nodes/register', moved)).status).toBe(200);
    expect(await shardIds(from)).not.toContain(mover.keys.nodeId);
    expect(await shardIds(shardCellOf(to))).toContain(mover.keys.nodeId);
    const replayed = await post('/v1/nodes/heartbeat', await heartbeat(mover, 1));
    expect(((await replayed.json()) as { error: { code: string } }).error.code).toBe('REPLAYED');
    expect((await post('/v1/nodes/heartbeat', await heartbeat(mover))).status).toBe(200);
    // Moved back so the restart test compares like with like.
    await reference.registry.register(moved);
  });

  it('keeps every shard state across a restart (persisted SQLite storage)', async () => {
    const url = `/v1/nodes/nearest?lat=${-17.5}&lng=${180}&k=20`;
    const n = nodes[5]!;
    expect((await post('/v1/nodes/heartbeat', await heartbeat(n))).status).toBe(200);
    const before = await (await worker(url, { headers: auth })).json();
    await mf.dispose();
    mf = startWorker({ scriptPath: bundle.scriptPath, shardClass: 'ClockedPlacementShard', persistDir, bindings: { HEXEDGE_API_KEY: KEY } });
    expect(await (await worker(url, { headers: auth })).json()).toEqual(before);
    expect(((await (await post('/v1/nodes/heartbeat', await heartbeat(n, 1))).json()) as { error: { code: string } }).error.code).toBe('REPLAYED');
    expect((await post('/v1/nodes/heartbeat', await heartbeat(n))).status).toBe(200);
  }, 30_000);
});

// Sanity of the bound the coordinator relies on, next to the test that depends on it.
it('lower-bounds the distance from a query to every point of a shard cell', () => {
  const cell = latLngToCell(50.11, 8.68, 2);
  const [lat, lng] = cellToLatLng(cell);
  for (const [vLat, vLng] of cellToBoundary(cell)) {
    const inside = { lat: lat + (vLat - lat) * 0.999, lng: lng + (vLng - lng) * 0.999 };
    for (const q of [{ lat: 0, lng: 0 }, { lat: 52, lng: 13 }, { lat: 50, lng: 8.7 }]) expect(minDistanceToCellKm(q, cell)).toBeLessThanOrEqual(greatCircleDistanceKm(q, inside));
  }
});
